/**
 * What the trace, the step labels and a failure's explanation read from the memory model beyond
 * what exploring needs (machine/weak-memory.ts): the buffered store a step made, the stores that
 * became visible, what a read returned, and a CPU's buffered stores. The model reports them into
 * an event log the trace recorder installs as `WeakMemory.events` (null otherwise: untraced runs
 * pay nothing) and clears around each step.
 */
import { WeakEvents, type ReadEvent, type StoreEvent, type VisibleEvent, type WeakMemory } from '../machine/weak-memory.ts';

export type WeakStore = StoreEvent;
export type WeakVisible = VisibleEvent;
export type WeakReadResult = ReadEvent;
export type WeakEventLog = WeakEvents;

/** Installs an event log on the model. */
export function attachWeakEvents(w: WeakMemory): WeakEventLog {
  const log = new WeakEvents();
  w.events = log;
  return log;
}

export function detachWeakEvents(w: WeakMemory): void {
  w.events = null;
}

/** `cpu`'s buffered store `entry` (0 = the oldest), when it has one. */
export function bufferedStoreOf(w: WeakMemory, cpu: number, entry: number): WeakStore | undefined {
  if (entry < 0 || entry >= w.buffered(cpu)) return undefined;
  return w.bufferedStore(cpu, entry);
}
