/**
 * Logical processors, threads and execution contexts.
 *
 * A logical CPU runs a stack of execution contexts: the current thread at the
 * bottom, then any DPC or interrupt service routine that interrupted it. Only
 * the top context executes. A thread is switched off its CPU only at quantum
 * end or when it waits, and only while the CPU is below DISPATCH_LEVEL.
 */
import { ScenarioError } from './bugcheck.ts';
import type { Routine } from './ops.ts';

export type ContextKind = 'thread' | 'dpc' | 'isr';

/** Not blocked; otherwise the word address a spin waits on (ANY_WRITE: any write at all). */
export const NOT_BLOCKED = -1;
export const ANY_WRITE = -2;

export class ExecContext {
  /** -1 when runnable; otherwise the address of the word this context spins on. */
  blockedOn = NOT_BLOCKED;
  finished = false;
  /** Kernel routines in progress, outermost first (for bug-check analysis). */
  readonly apiStack: string[] = [];
  /** Spin locks (addresses) this context holds, in acquisition order. */
  readonly heldLocks: number[] = [];
  /** IRQL to restore when a DPC or ISR returns. */
  savedIrql = 0;
  /** The operation this context performs when next stepped, and its address. */
  op = 0;
  opAddr = 0;
  /** Memory order of `op` when it is an ordering-API access (machine/weak-memory.ts, ORDER_* bits), else ORDER_SC (0). */
  order = 0;
  /** Call stack at the yield that announced `op` (only while a trace is recorded). */
  site = '';
  steps = 0;
  /** Identical futile accesses in a row (see Machine.noteFutile). */
  futile = 0;
  futileKey = 0;
  futileVal = 0;
  /** `steps` at the last futile access (a PAUSE right after one moves it on: see Machine.notePause). */
  futileAt = 0;
  /** Spin locks held at the last futile access (a lock taken since makes the next read progress, not a yield). */
  futileLocks = 0;
  /** Times this context's presumed spin was resumed because nothing else could run (see Machine.resumeGuessedSpins). */
  spinRetries = 0;

  constructor(
    public id: number,
    public kind: ContextKind,
    public name: string,
    public gen: Routine,
    public cpu: LogicalCpu,
    public thread: Thread | null,
  ) {}

  /**
   * Makes a context of a finished run new again (see Machine.newContext): its
   * arrays keep their storage, which a fresh context grows on its first push
   * — a seventeen-element allocation per array and context on every run.
   */
  reuse(id: number, kind: ContextKind, name: string, gen: Routine, cpu: LogicalCpu, thread: Thread | null): this {
    this.id = id;
    this.kind = kind;
    this.name = name;
    this.gen = gen;
    this.cpu = cpu;
    this.thread = thread;
    this.blockedOn = NOT_BLOCKED;
    this.finished = false;
    empty(this.apiStack);
    empty(this.heldLocks);
    this.savedIrql = 0;
    this.op = 0;
    this.opAddr = 0;
    this.order = 0;
    this.site = '';
    this.steps = 0;
    this.futile = 0;
    this.futileKey = 0;
    this.futileVal = 0;
    this.futileAt = 0;
    this.futileLocks = 0;
    this.spinRetries = 0;
    return this;
  }

  get routine(): string {
    const api = this.apiStack.length > 0 ? ` in ${this.apiStack.join(' > ')}` : '';
    return `${this.name}${api}`;
  }
}

export type ThreadState = 'ready' | 'running' | 'waiting' | 'terminated';

export class Thread {
  state: ThreadState = 'ready';
  /** IRQL the thread runs at while it is switched off its CPU. */
  irql: number;
  ctx!: ExecContext;
  /** Kernel APC disable count (critical/guarded regions) — negative when disabled, as KTHREAD.KernelApcDisable. */
  kernelApcDisable = 0;
  specialApcDisable = 0;
  /** What a waiting thread waits on, for hang analysis. */
  waitReason = '';
  /** Result handed to a waiting thread when it is readied (e.g. STATUS_SUCCESS or STATUS_TIMEOUT). */
  waitStatus = 0;
  /** The thread holding what this waiting thread waits for, when known (itself: a self-deadlock). */
  waitOwner: Thread | null = null;

  constructor(
    public id: number,
    public name: string,
    public cpu: LogicalCpu,
    public startIrql: number,
    /** Address of this thread's KTHREAD block in machine memory. */
    public kthread: number,
  ) {
    this.irql = startIrql;
  }

  /**
   * Makes a thread of a finished run new again (see Machine.createThread): a
   * reused thread is old, so the run's stores of it into the machine's
   * long-lived arrays and CPUs need no remembered-set entry, and nothing is allocated.
   */
  reuse(id: number, name: string, cpu: LogicalCpu, startIrql: number, kthread: number): this {
    this.id = id;
    this.name = name;
    this.cpu = cpu;
    this.startIrql = startIrql;
    this.kthread = kthread;
    this.state = 'ready';
    this.irql = startIrql;
    this.kernelApcDisable = 0;
    this.specialApcDisable = 0;
    this.waitReason = '';
    this.waitStatus = 0;
    this.waitOwner = null;
    return this;
  }
}

export interface PendingDpc {
  name: string;
  /** Address of the KDPC, or 0 for a DPC actor without an object. */
  dpc: number;
  start: () => Routine;
}

export interface PendingInterrupt {
  name: string;
  irql: number;
  start: () => Routine;
}

export class LogicalCpu {
  irql = 0;
  /** Contexts on this CPU; the top one executes. */
  readonly stack: ExecContext[] = [];
  thread: Thread | null = null;
  /** Threads ready to run on this CPU, in round-robin order (the running one is not here). */
  readonly ready: Thread[] = [];
  readonly dpcQueue: PendingDpc[] = [];
  readonly interrupts: PendingInterrupt[] = [];
  /** Steps the running thread has executed since it was last dispatched. */
  sinceDispatch = 0;
  /** Global step at which this CPU last rose to DISPATCH_LEVEL or above (-1 while below). */
  raisedAt = -1;
  /** Per-CPU counters. */
  steps = 0;
  dpcsRun = 0;
  interruptsTaken = 0;
  contextSwitches = 0;

  constructor(
    readonly index: number,
    readonly core: number,
    readonly online: boolean,
  ) {}

  get top(): ExecContext | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** Removes and returns the pending interrupt of highest IRQL above the CPU's, if any is deliverable now. */
  takeDeliverableInterrupt(): PendingInterrupt | undefined {
    let best = -1;
    for (let i = 0; i < this.interrupts.length; i++) {
      const irq = this.interrupts[i]!;
      if (irq.irql > this.irql && (best < 0 || irq.irql > this.interrupts[best]!.irql)) best = i;
    }
    return best >= 0 ? this.interrupts.splice(best, 1)[0] : undefined;
  }

  /** Back to power-on state, keeping the object (a new run must not cost an allocation per CPU). */
  reset(): void {
    this.irql = 0;
    empty(this.stack);
    this.thread = null;
    empty(this.ready);
    empty(this.dpcQueue);
    empty(this.interrupts);
    this.sinceDispatch = 0;
    this.raisedAt = -1;
    this.steps = 0;
    this.dpcsRun = 0;
    this.interruptsTaken = 0;
    this.contextSwitches = 0;
  }
}

/** Empties an array in place; pop() stays inline where `length = 0` calls into the runtime on every run. */
export function empty(a: unknown[]): void {
  while (a.length !== 0) a.pop();
}

/**
 * The kernel routine generator the running context created and has not yet delegated to with
 * yield* (see installKernelApi). Still set when the context yields to the engine or ends, it was
 * called without yield* and never runs. One record serves every machine of this JS thread: a step
 * runs to its end before another starts, and each run starts with it cleared (setUpRun).
 */
export const pendingRoutine: { call: Routine | null } = { call: null };

/** The NT name of the pending routine: installKernelApi puts it on the prototype of the generators each routine makes. */
export function pendingRoutineName(): string {
  return (pendingRoutine.call as { routineName?: string } | null)?.routineName ?? 'a kernel routine';
}

/**
 * The error for a kernel routine whose generator `ctx` created and never started: the call lacked
 * yield*, so the routine did not run (a generator object is truthy in a condition, and it is not the
 * routine's result). Noticed when the context creates another routine, yields to the engine or ends.
 */
export function routineNotStarted(ctx: ExecContext | undefined): ScenarioError {
  const name = pendingRoutineName();
  pendingRoutine.call = null;
  return new ScenarioError(
    `${name} was called without yield*${ctx ? ` in ${ctx.kind} '${ctx.name}'` : ''}: its generator was created and never started, so ${name} never ran ` +
      `(in a condition a generator object is always true; it is not the routine's result). ` +
      `Write yield* k.${name}(…) — in a condition or an expression, (yield* k.${name}(…)).`,
  );
}

/** The error for a `yield` of something that is not a kernel operation (ops.ts): scenario code never yields itself. */
export function notAnOperation(ctx: ExecContext, value: unknown): ScenarioError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' && value !== null ? (typeof (value as { then?: unknown }).then === 'function' ? 'a Promise' : 'an object') : String(value);
  return new ScenarioError(
    `${ctx.kind} '${ctx.name}' yielded ${shown}, which is not a kernel operation: a scenario yields only through kernel routines. ` +
      'Write yield* k.Routine(…) (yield* with a star) to call a kernel routine or a function* helper, and yield* k.YieldProcessor() for a plain scheduling point.',
  );
}
