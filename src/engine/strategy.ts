import { MAX_STALE_READS, STORE_BUFFER_DEPTH } from '../machine/weak-memory.ts';

/**
 * The one interface every exploration strategy implements (after shuttle's
 * `Scheduler`): start an execution, then pick the next choice whenever more
 * than one is enabled. A choice id is a CPU to step (0..n-1), a quantum end on
 * CPU i (n+i), an asynchronous event j (2n+j), or the expiry of kernel timer i
 * (timerChoiceBase(n)+i), or a weak-memory choice (weakChoiceBase(n)+…: a
 * step whose store stays buffered, a read of an older value, a buffered store
 * becoming visible): so the strategy decides interrupts, DPC arrivals, timer
 * expiries, preemptions and reorderings too, and they replay like the rest.
 */
export interface Strategy {
  readonly name: string;
  /** Prepares execution number `index`; false when there is nothing left to explore. */
  newExecution(index: number): boolean;
  /**
   * Picks one of `choices[0..count)` (ascending ids, count ≥ 2). `current` is
   * the previous choice (-1 at the start) and `step` the global step number.
   */
  next(choices: Int32Array, count: number, current: number, step: number): number;
  /**
   * Called after CPU `cpu` made a step that was a yield (it changed nothing
   * and saw nothing new: see Machine.yielded). A strategy with priorities
   * lowers the CPU's (fair scheduling); the engine already holds it back for
   * one turn of every other CPU.
   */
  yielded?(cpu: number): void;
  /** Called when an execution ends, with the steps it took. */
  endExecution?(steps: number): void;
  /**
   * Gives the strategy a read-only view of what each CPU does next, before
   * the first execution. Optional: only strategies that weigh conflicts (POS)
   * look at it.
   */
  attach?(view: PendingOps): void;
}

/**
 * What the CPUs of a run are about to do, for strategies that tell dependent
 * steps from independent ones. Valid during `next`: for a CPU choice c
 * (c < cpuCount()), the operation kind (machine/ops.ts OP_*) and address of
 * the next step of its top context.
 */
export interface PendingOps {
  cpuCount(): number;
  op(cpu: number): number;
  addr(cpu: number): number;
}

/**
 * Choice ids of asynchronous events are 2n+j for j below this; timer expiries follow them, timer
 * i being timerChoiceBase(n)+i. A fixed gap keeps a timer's id the same whatever events the run
 * has made so far (wait timeouts are added as threads first wait), and ids small (PCT sizes a
 * table by the largest id).
 */
export const MAX_EVENT_CHOICES = 4096;

/** The choice id of timer 0 on a rig of n logical CPUs. */
export function timerChoiceBase(cpuCount: number): number {
  return 2 * cpuCount + MAX_EVENT_CHOICES;
}

/**
 * Timers a run may initialize that keep ids of their own; weak-memory choices follow them. A fixed
 * gap, as for events: a weak choice's id does not depend on how many timers the run made so far.
 */
export const MAX_TIMER_CHOICES = 1024;

/**
 * The first weak-memory choice id on a rig of n logical CPUs (machine/weak-memory.ts; the ids
 * after it, ascending):
 * - base + c: CPU c steps with its store buffered (VARIANT_BUFFER);
 * - base + n + c·MAX_STALE_READS + (k−1): CPU c steps reading the k-th older value (k ≥ 1);
 * - base + n + n·MAX_STALE_READS + c·STORE_BUFFER_DEPTH + e: CPU c's buffered store e becomes visible.
 */
export function weakChoiceBase(cpuCount: number): number {
  return timerChoiceBase(cpuCount) + MAX_TIMER_CHOICES;
}

/** One past the largest weak-memory choice id on a rig of n logical CPUs. */
export function weakChoiceEnd(cpuCount: number): number {
  return weakChoiceBase(cpuCount) + cpuCount * (1 + MAX_STALE_READS + STORE_BUFFER_DEPTH);
}

/** A weak-memory choice id, decoded. */
export type WeakChoice =
  | { kind: 'buffered'; cpu: number }
  | { kind: 'stale'; cpu: number; k: number }
  | { kind: 'flush'; cpu: number; entry: number };

export function bufferedChoice(cpuCount: number, cpu: number): number {
  return weakChoiceBase(cpuCount) + cpu;
}

export function staleChoice(cpuCount: number, cpu: number, k: number): number {
  return weakChoiceBase(cpuCount) + cpuCount + cpu * MAX_STALE_READS + (k - 1);
}

export function flushChoice(cpuCount: number, cpu: number, entry: number): number {
  return weakChoiceBase(cpuCount) + cpuCount * (1 + MAX_STALE_READS) + cpu * STORE_BUFFER_DEPTH + entry;
}

/** True for a weak-memory choice id (a buffered step, a stale read, a flush). */
export function isWeakChoice(id: number, cpuCount: number): boolean {
  return id >= weakChoiceBase(cpuCount);
}

/** What weak-memory choice `id` is, or null when it is none (or past the last one). */
export function decodeWeakChoice(id: number, cpuCount: number): WeakChoice | null {
  let r = id - weakChoiceBase(cpuCount);
  if (r < 0) return null;
  if (r < cpuCount) return { kind: 'buffered', cpu: r };
  r -= cpuCount;
  if (r < cpuCount * MAX_STALE_READS) return { kind: 'stale', cpu: Math.floor(r / MAX_STALE_READS), k: (r % MAX_STALE_READS) + 1 };
  r -= cpuCount * MAX_STALE_READS;
  if (r < cpuCount * STORE_BUFFER_DEPTH) return { kind: 'flush', cpu: Math.floor(r / STORE_BUFFER_DEPTH), entry: r % STORE_BUFFER_DEPTH };
  return null;
}

/** The CPU a choice steps or acts on, for a CPU or weak-memory choice (-1 for others). */
export function choiceCpu(id: number, cpuCount: number): number {
  if (id < cpuCount) return id;
  const w = decodeWeakChoice(id, cpuCount);
  return w === null ? -1 : w.cpu;
}

export type StrategyName = 'portfolio' | 'random' | 'pct' | 'pos' | 'dfs' | 'replay';

export function contains(choices: Int32Array, count: number, id: number): boolean {
  for (let i = 0; i < count; i++) if (choices[i] === id) return true;
  return false;
}

/** The choice an execution takes when nobody says otherwise: keep running the same thing, else the lowest id. */
export function defaultChoice(choices: Int32Array, count: number, current: number): number {
  return contains(choices, count, current) ? current : choices[0]!;
}
