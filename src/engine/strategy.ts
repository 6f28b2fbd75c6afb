/**
 * The one interface every exploration strategy implements (after shuttle's
 * `Scheduler`): start an execution, then pick the next choice whenever more
 * than one is enabled. A choice id is a CPU to step (0..n-1), a quantum end on
 * CPU i (n+i), an asynchronous event j (2n+j), or the expiry of kernel timer i
 * (timerChoiceBase(n)+i): so the strategy decides interrupts, DPC arrivals,
 * timer expiries and preemptions too, and they replay like the rest.
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

export type StrategyName = 'portfolio' | 'random' | 'pct' | 'pos' | 'dfs' | 'replay';

export function contains(choices: Int32Array, count: number, id: number): boolean {
  for (let i = 0; i < count; i++) if (choices[i] === id) return true;
  return false;
}

/** The choice an execution takes when nobody says otherwise: keep running the same thing, else the lowest id. */
export function defaultChoice(choices: Int32Array, count: number, current: number): number {
  return contains(choices, count, current) ? current : choices[0]!;
}
