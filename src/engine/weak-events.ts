/**
 * What the trace, the step labels and a failure's explanation read from the memory model, beyond
 * what the engine needs to explore (machine/weak-memory.ts). A model that does not offer it still
 * explores and replays; its traces then say only which steps were weak choices.
 *
 * MERGE NOTE: written before the model landed; the model's own names are adapted here.
 */
import type { WeakMemory } from '../machine/weak-memory.ts';

/** A store held in a CPU's store buffer. */
export interface BufferedStore {
  addr: number;
  value: number;
  /** The step (Machine.step) that wrote it. */
  step: number;
}

/** What the latest ordering-API read of a CPU returned. */
export interface WeakRead {
  value: number;
  /** When it was not the newest value of the word (an older one, ARM64): the newest, and which store wrote it. */
  stale?: { newest: number; newestStep: number; newestCpu: number };
}

export interface WeakInspection {
  /** Store `entry` (0 = the oldest) of `cpu`'s buffer, or undefined past its last. */
  bufferedStore(cpu: number, entry: number): BufferedStore | undefined;
  /** The latest ordering-API read of `cpu` in this run, or undefined before its first. */
  lastRead(cpu: number): WeakRead | undefined;
}

/** The model's inspection methods, when it has them. */
export function weakInspection(w: WeakMemory): WeakInspection | null {
  const x = w as unknown as Partial<WeakInspection>;
  return typeof x.bufferedStore === 'function' && typeof x.lastRead === 'function' ? (x as WeakInspection) : null;
}
