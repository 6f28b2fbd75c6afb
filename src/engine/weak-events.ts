/**
 * What the trace, the step labels and a failure's explanation read from the memory model beyond
 * what exploring needs (machine/weak-memory.ts): the buffered store a step made, the stores that
 * became visible, what a read returned, and a CPU's buffered stores. The model reports them into
 * an event log the trace recorder installs as `WeakMemory.events` (null otherwise: untraced runs
 * pay nothing) and clears around each step.
 *
 * MERGE NOTE: written while the model was being built on another branch; these shapes mirror
 * its WeakEvents / StoreEvent / VisibleEvent / ReadEvent (weak-memory.ts there), which can
 * replace them once both are in. A model without them (main's sequentially consistent
 * placeholder) still explores and replays; its traces then mark only the steps the engine asked
 * to buffer.
 */
import type { WeakMemory } from '../machine/weak-memory.ts';

/** A store of an ordering-API write: who stored what where, at which step. */
export interface WeakStore {
  cpu: number;
  addr: number;
  value: number;
  /** The step that performed the store (Machine.step then). */
  storedAt: number;
}

/** A buffered store that became visible to every other CPU, during step `visibleAt`. */
export interface WeakVisible extends WeakStore {
  visibleAt: number;
}

/** What an ordering-API read returned; `stale` when it was older than the newest visible value (ARM64). */
export interface WeakReadResult {
  cpu: number;
  addr: number;
  value: number;
  stale: { newest: number; newestStep: number; newestCpu: number } | null;
}

/** What the weak operations did since the last clear(). */
export class WeakEventLog {
  /** The ordering-API store the step performed was held in the CPU's buffer. */
  buffered: WeakStore | null = null;
  /** Buffered stores that became visible, in the order they did. */
  readonly visible: WeakVisible[] = [];
  /** The ordering-API read the step performed. */
  read: WeakReadResult | null = null;

  clear(): void {
    this.buffered = null;
    this.visible.length = 0;
    this.read = null;
  }
}

/** The model's side of it, when the model has one. */
interface Reporting {
  events: WeakEventLog | null;
  bufferedStore(cpu: number, entry: number): WeakStore;
}

function reporting(w: WeakMemory): Reporting | null {
  const x = w as unknown as Partial<Reporting>;
  return 'events' in x && typeof x.bufferedStore === 'function' ? (x as Reporting) : null;
}

/** Installs an event log on the model (null when the model reports nothing). */
export function attachWeakEvents(w: WeakMemory): WeakEventLog | null {
  const r = reporting(w);
  if (r === null) return null;
  const log = new WeakEventLog();
  r.events = log;
  return log;
}

export function detachWeakEvents(w: WeakMemory): void {
  const r = reporting(w);
  if (r !== null) r.events = null;
}

/** `cpu`'s buffered store `entry` (0 = the oldest), when the model tells and has it. */
export function bufferedStoreOf(w: WeakMemory, cpu: number, entry: number): WeakStore | undefined {
  const r = reporting(w);
  if (r === null || entry < 0 || entry >= w.buffered(cpu)) return undefined;
  return r.bufferedStore(cpu, entry);
}
