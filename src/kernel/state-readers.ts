/**
 * The KeReadState* readers as invariants call them: plain reads, no `yield*`. In driver code each is a
 * kernel routine (a read of shared memory, so a scheduling point); an invariant runs after the run, on
 * no processor, where there is nothing to interleave, so there it returns the value at once.
 *
 * A family that adds a reader (KeReadStateTimer, …) registers it here with registerStateReader.
 */
import { DH_SIGNAL_STATE } from './dispatcher-object.ts';
import type { Kernel } from './kernel.ts';

type StateReader = (k: Kernel, object: number) => number;

/** The signal state of a dispatcher header (event 1/0, mutex 1 free, semaphore count), read directly. */
const signalState: StateReader = (k, object) => k.m.words[object + DH_SIGNAL_STATE]!;

const READERS = new Map<string, StateReader>([
  ['KeReadStateEvent', signalState],
  ['KeReadStateMutex', signalState],
  ['KeReadStateSemaphore', signalState],
]);

/** Adds a KeReadState* reader usable from invariants (call at module load, before any run). */
export function registerStateReader(name: string, read: StateReader): void {
  READERS.set(name, read);
  views = new WeakMap();
}

/** Whether an invariant may call `name` without `yield*` (the scenario checker allows it there). */
export function isStateReader(name: string): boolean {
  return READERS.has(name);
}

/** Names of the registered readers. */
export function stateReaderNames(): string[] {
  return [...READERS.keys()];
}

/** The readers invariants see as plain calls. Kept in step with READERS by the test of this file. */
export type StateReaderName = 'KeReadStateEvent' | 'KeReadStateMutex' | 'KeReadStateSemaphore';

/**
 * `k` as an invariant receives it: every member as in driver code, the KeReadState* readers also as plain
 * reads (their plain signature comes first, so a call in an invariant types as a number). It is still a
 * Kernel, so an invariant written as `(s, k: Kernel) => …` is accepted as before.
 */
export type InvariantKernel = { [N in StateReaderName]: (object: number) => number } & Kernel;

let views = new WeakMap<Kernel, InvariantKernel>();

/** The invariant view of a kernel: made once per kernel, so the end of every run pays a lookup only. */
export function invariantKernel(k: Kernel): InvariantKernel {
  let v = views.get(k);
  if (v === undefined) {
    const view = Object.create(k) as Record<string, unknown>;
    for (const [name, read] of READERS) view[name] = (object: number): number => read(k, object);
    v = view as unknown as InvariantKernel;
    views.set(k, v);
  }
  return v;
}
