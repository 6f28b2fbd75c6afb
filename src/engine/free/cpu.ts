/**
 * One logical CPU of a free run, driven inside its own worker: the scenario's
 * routines (the same generator source the controlled engine interleaves) run
 * directly, each yield being just a point where this CPU checks for
 * interrupts, DPCs and quantum end — exactly Machine.stepCpu, with no strategy
 * in between. Memory operations are Atomics on the shared machine memory, so
 * the CPUs race for real.
 *
 * An iteration: every worker resets and runs the scenario's setup (identical
 * values into the same shared words), a barrier, every worker runs the actors
 * placed on its CPU (DPC and interrupt arrivals fire at a random step), then
 * an end barrier at which the last worker checks the invariants.
 */
import { ScenarioError } from '../../machine/bugcheck.ts';
import { ExecContext, NOT_BLOCKED, type LogicalCpu, type Thread } from '../../machine/cpu.ts';
import { DISPATCH_LEVEL } from '../../machine/irql.ts';
import { OP_SPIN, OP_WAIT, type Routine } from '../../machine/ops.ts';
import { KERNEL_SHARED_WORDS, Machine, type AsyncEvent, type StuckReport } from '../../machine/machine.ts';
import { DPC_ARGUMENT1, DPC_ARGUMENT2, DPC_DATA, DPC_DEFERRED_CONTEXT, DPC_RUNNING, insertQueueDpc, type KDEFERRED_ROUTINE } from '../../kernel/dpc.ts';
import { INTERRUPT_IRQL } from '../../kernel/interrupt.ts';
import { Kernel, SHARED_STATE_FAMILIES } from '../../kernel/kernel.ts';
import type { Invariant, Scenario } from '../../scenario/define.ts';
import { asyncActor, isAsync } from '../actor-checks.ts';
import { checkEndOfRun, classifyFailure, snapshotCpu } from '../failure.ts';
import { placeActors, setUpRun, type PlannedActor } from '../instantiate.ts';
import type { CpuSnapshot, Failure, OutcomeKind } from '../outcome.ts';
import { Rng, scheduleSeed } from '../prng.ts';
import {
  barrier, C_ARRIVED, C_DISPATCHER_LOCK, C_FAIL, C_GEN, C_INFLIGHT, C_ITER, C_MAX_ITER, C_READY, C_STOP, C_TIME_UP, CLOSING, cpuWord,
  kernelSharedBase, MAILBOX_ENTRY, MAILBOX_SLOTS, mailboxBase, openBarrier, P_ACQUIRE, P_BUSY, P_PROGRESS, P_SPINS, P_STEPS, requestStop,
  STOP_AT_BOUNDARY, STOP_NOW,
} from './control.ts';
import type { FreeCpuRequest } from '../worker-contract.ts';
import { FreeMachine, type FreeCpuHost } from './free-machine.ts';
import { markFieldsMutable } from './mutable-fields.ts';
import { MACHINE_PER_RUN_FIELDS, primeHiddenClasses } from './priming.ts';

/** A CPU worker's request (worker-contract.ts) with its scenario loaded. */
export interface FreeCpuJob extends Omit<FreeCpuRequest, 'scenario' | 'mode'> {
  scenario: Scenario;
  /**
   * Plain-function twins of the kernel and of this scenario (same source, see
   * bin/twin-loader.mjs). Used when this CPU runs at most one thread; DPCs and
   * interrupts then run nested at the scheduling points, as on hardware.
   */
  twin?: { Kernel: new (m: Machine) => Kernel; scenario: Scenario };
}

/** Kinds of mail about a thread (mailbox entry word 2). */
const MAIL_READY = 0;
const MAIL_KICK = 1;

/** Thrown through plain-function (twin) code to stop a CPU in the middle of an iteration. */
const STOP = Symbol('free-run stop');

export interface CpuCounters {
  cpu: number;
  /** Iterations this CPU took part in. */
  iterations: number;
  /** Scheduling points executed (one per yield of a routine). */
  operations: number;
  /** Spin-lock acquisitions (every kernel lock primitive). */
  acquisitions: number;
  /** PAUSEs in spin loops. */
  spins: number;
  /** Long spins after which this CPU's worker gave its host core away (more CPU workers than host cores; FreeCpu.noteSpin). */
  hostPauses: number;
  dpcs: number;
  interrupts: number;
  contextSwitches: number;
  /** How the routines ran: as generators stepped per yield, or as their plain-function twins. */
  mode: 'generators' | 'twin';
}

/** A lock word a context holds or spins on, as a name and an address. */
export interface LockRef {
  addr: number;
  name: string;
  context: string;
}

/** What a CPU was doing when the run was stopped under it (for hang and deadlock analysis). */
export interface CpuState {
  snapshot: CpuSnapshot;
  /** The top context's spin, if it was spinning. */
  spin?: LockRef & { irql: number };
  held: LockRef[];
  /** Contexts not finished on this CPU (stack, ready threads, waiting threads, queued DPCs). */
  live: number;
  /** Threads of this CPU in a wait (a dispatcher object, or NtResumeThread), with what they wait for. */
  waits?: { thread: string; reason: string }[];
  idle: boolean;
}

export interface CpuResult {
  counters: CpuCounters;
  /** Set on the worker that claimed the run's first failure. */
  outcome?: Exclude<OutcomeKind, 'pass'>;
  failure?: Omit<Failure, 'schedule'>;
  /** This CPU's state when the run was stopped in the middle of an iteration. */
  state?: CpuState;
  /** Kernel families whose cross-processor state (k.perRun) lives in JS objects on this CPU. */
  families: string[];
}

interface Plan extends PlannedActor {
  arrival?: LocalArrival;
}

/** A DPC or interrupt arrival on this CPU: fires at a random step of the iteration (or when the CPU would go idle). */
class LocalArrival implements AsyncEvent {
  armed = false;
  cpu = 0;
  remaining = 0;
  at = 0;
  object = 0;
  irql = 0;
  constructor(
    readonly name: string,
    readonly count: number,
    readonly fireFn: (a: LocalArrival) => void,
  ) {}
  fire(): void {
    this.fireFn(this);
    if (--this.remaining <= 0) this.armed = false;
  }
}

function* idle(): Routine<void> {}

/** Steps between publications of this CPU's counters and checks of the stop flag. */
const PUBLISH_EVERY = 255;
/**
 * Unbroken PAUSEs on one word after which an oversubscribed worker gives its host core away, and
 * for how long. A lock held by a running CPU is free again within a few dozen PAUSEs; hundreds
 * mean the CPU it waits for is not running.
 */
const PAUSE_LOOP_WINDOW = 256;
const PAUSE_LOOP_SLEEP_MS = 0.05;

// Before any scenario code runs in this worker, hence before any of it is optimized.
primeHiddenClasses();

export function runFreeCpu(job: FreeCpuJob): CpuResult {
  return new FreeCpu(job).run();
}

class FreeCpu implements FreeCpuHost {
  readonly m: FreeMachine;
  readonly k: Kernel;
  readonly ctl: Int32Array;
  readonly words: Int32Array;
  readonly slot: number;
  readonly n: number;
  readonly rng: Rng;
  readonly plans: Plan[];
  readonly invariants: [string, Invariant<unknown>][];
  readonly setupCtx: ExecContext;
  readonly mbox: number;
  state: unknown = undefined;
  cpu!: LogicalCpu;
  local: LocalArrival[] = [];
  /** Expected steps of this CPU per iteration (moving average): arrivals are spread over it. */
  expect = 8;
  iterSteps = 0;
  // counters
  iterations = 0;
  operations = 0;
  spins = 0;
  dpcs = 0;
  interrupts = 0;
  switches = 0;
  finished = 0;
  lastSpinCtx: ExecContext | null = null;
  lastSpinAddr = 0;
  lastSpinAt = -1;
  /** PAUSEs in a row on lastSpinAddr (noteSpin). */
  spinRun = 0;
  /** Times this worker gave its host core away in a long spin (noteSpin). */
  hostPauses = 0;
  outcome?: Exclude<OutcomeKind, 'pass'>;
  failure?: Omit<Failure, 'schedule'>;
  stoppedState?: CpuState;
  /** True while the end-of-iteration checks run (a failure there is not any routine's). */
  closing = false;
  readonly twin: boolean;
  readonly scenario: Scenario;
  readonly families = new Set<string>();
  pointFn: ((op: number) => void) | null = null;
  /** Twin mode: scheduling points of the current iteration, the next arrival, and context ids. */
  tSteps = 0;
  tNext = Infinity;
  /** Twin mode: the step at which the counters are next published and the stop flag read. */
  tPublish = PUBLISH_EVERY + 1;
  /** Twin mode: points granted to at() at the last call of point() (see FreeMachine.pointsLeft). */
  tBatch = 1;
  twinThread: { plan: Plan; thread: Thread } | null = null;
  /** Nesting depth of Machine.lockDispatcher on this CPU (only the outermost takes the shared word). */
  dispatcherDepth = 0;
  /** Idle rounds left before a timed wait of this CPU expires (-1: none counting). */
  timerRounds = -1;

  constructor(readonly job: FreeCpuJob) {
    this.words = new Int32Array(job.memory);
    this.m = new FreeMachine(job.rig, this.words, new Uint8Array(job.shadow), job.slot, this);
    this.ctl = new Int32Array(job.control);
    this.slot = job.slot;
    this.n = job.cpus;
    // Twin mode needs no thread switching on this CPU: at most one thread actor lands here.
    const own = this.m.own;
    const threadsHere = Object.values((job.twin?.scenario ?? job.scenario).actors).filter(
      (a) => (a.kind ?? 'thread') === 'thread' && this.m.cpuFor(a.cpu ?? 0) === own,
    ).length;
    this.twin = job.twin !== undefined && threadsHere <= 1;
    const scenario = this.twin ? job.twin!.scenario : job.scenario;
    this.scenario = scenario;
    this.k = this.twin ? new job.twin!.Kernel(this.m) : new Kernel(this.m);
    this.mbox = mailboxBase(job.cpus, job.slot);
    this.rng = new Rng(scheduleSeed(job.seed, job.slot));
    this.setupCtx = new ExecContext(-1, 'thread', 'setup', idle(), this.m.cpus[0]!, null);
    this.invariants = Object.entries(scenario.invariants ?? {});
    const twin = this.twin;
    this.plans = Object.entries(scenario.actors).map(([name, actor]) => {
      const plan: Plan = { name, actor };
      if (actor.kind === 'dpc') {
        const start = (): Routine<unknown> => this.startActor(plan);
        plan.dpcRoutine = twin
          ? ((() => start()) as unknown as KDEFERRED_ROUTINE)
          : function* () {
              yield* start();
            };
        plan.arrival = new LocalArrival(name, actor.arrivals ?? 1, (a) => {
          insertQueueDpc(this.k, a.object, 0, 0);
        });
      } else if (actor.kind === 'interrupt') {
        plan.arrival = new LocalArrival(name, actor.arrivals ?? 1, (a) => {
          const intr = a.object;
          // The IRQL an IoConnectInterruptEx on another CPU worker gave it; the ISR frame skips a disconnected object.
          this.m.requestInterrupt(this.cpu, name, this.m.words[intr + INTERRUPT_IRQL]!, () => this.k.runInterruptServiceRoutine(intr, () => this.startActor(plan)));
        });
      }
      return plan;
    });
    // Kernel state shared between processors: one copy in control memory, the dispatcher lock a word beside it.
    const m = this.m;
    m.kernelShared.attach(new Int32Array(job.control, kernelSharedBase(job.cpus) * 4, KERNEL_SHARED_WORDS));
    if (twin) this.pointFn = (op) => this.point(op);
    // Its counters first change at the end of the first iteration, when the scenario's code has
    // just been optimized with them folded in as constants (see mutable-fields.ts). The same goes
    // for what the machine resets between iterations and setup sets again.
    this.cpu = own;
    this.m.cur = this.setupCtx;
    this.m.cpu = own;
    markFieldsMutable(this, { objects: true });
    markFieldsMutable(this.m, { keys: MACHINE_PER_RUN_FIELDS, objects: true });
  }

  run(): CpuResult {
    const ctl = this.ctl;
    Atomics.add(ctl, C_READY, 1);
    if (barrier(ctl, this.n, this.job.spinMicros)) {
      try {
        for (;;) {
          if (Atomics.load(ctl, C_STOP) !== 0) break;
          this.instantiate();
          if (!barrier(ctl, this.n, this.job.spinMicros)) break;
          if (!this.iteration()) break;
          if (!this.endBarrier()) break;
        }
      } catch (e) {
        // STOP: told to stop while waiting for the dispatcher lock.
        if (e === STOP) this.stoppedState = this.capture(0);
        else this.fail(e);
      }
    }
    if (this.stoppedState === undefined && this.cpu !== undefined && Atomics.load(ctl, C_STOP) === STOP_NOW) {
      // Stopped between iterations or at a barrier: report this CPU (idle, or what it still had).
      this.stoppedState = this.capture(Number.MIN_SAFE_INTEGER);
    }
    this.publish();
    return {
      counters: {
        cpu: this.m.online[this.slot]?.index ?? this.slot,
        iterations: this.iterations,
        operations: this.operations,
        acquisitions: this.m.lockOwners.acquisitions,
        spins: this.spins,
        hostPauses: this.hostPauses,
        dpcs: this.dpcs,
        interrupts: this.interrupts,
        contextSwitches: this.switches,
        mode: this.twin ? 'twin' : 'generators',
      },
      ...(this.outcome ? { outcome: this.outcome, failure: this.failure } : {}),
      ...(this.stoppedState ? { state: this.stoppedState } : {}),
      families: [...this.families, ...this.k.ext.keys()].filter((f, i, a) => a.indexOf(f) === i && !SHARED_STATE_FAMILIES.has(f)),
    };
  }

  startActor(plan: Plan): Routine<unknown> {
    const g = plan.actor.run(this.k, this.state as never);
    if (isAsync(g)) throw asyncActor(this.scenario.id, plan.name);
    if (this.twin) {
      // A twin actor has already run when run() returns; a generator back means some module it uses was not twinned.
      if (g && typeof (g as Routine<unknown>).next === 'function') throw notTwinned(plan.name);
      return g;
    }
    if (!g || typeof (g as Routine<unknown>).next !== 'function') {
      throw new ScenarioError(`scenario '${this.scenario.id}': actor '${plan.name}' must be a generator function (function*), so that it can be interleaved`);
    }
    return g;
  }

  /** Reset and setup, as the controlled engine does, on every worker alike (same addresses everywhere). */
  instantiate(): void {
    const { m, k } = this;
    for (const f of k.ext.keys()) this.families.add(f);
    this.cpu = m.online[this.slot]!;
    this.state = setUpRun(m, k, this.scenario, this.setupCtx);
    k.noteStateRoutines(this.state);
    this.local.length = 0;
    this.twinThread = null;
    placeActors(m, k, this.scenario, this.state, this.plans, {
      thread: (plan, cpu, startIrql) => {
        // Every worker creates every thread (same KTHREAD addresses); only the owner of its CPU runs it.
        const mine = cpu === this.cpu;
        const t = m.createThread(plan.name, cpu, startIrql, mine && !this.twin ? this.startActor(plan) : idle());
        if (mine && this.twin) this.twinThread = { plan, thread: t };
      },
      dpc: (plan, cpu, dpc) => this.arm(plan.arrival!, cpu, dpc, 0),
      interrupt: (plan, cpu, intr) => this.arm(plan.arrival!, cpu, intr, 0),
    });
    this.m.freeMemory.enterRegion(this.slot, this.n);
  }

  arm(a: LocalArrival, cpu: LogicalCpu, object: number, irql: number): void {
    a.cpu = cpu.index;
    a.object = object;
    a.irql = irql;
    a.remaining = a.count;
    a.armed = a.count > 0 && cpu === this.cpu;
    if (a.armed) {
      a.at = this.rng.int(this.expect + 1);
      this.local.push(a);
    }
  }

  /** Runs this CPU until it has nothing left to do in this iteration. False when told to stop now. */
  iteration(): boolean {
    if (this.twin) return this.iterationTwin();
    const { m, ctl } = this;
    const cpu = this.cpu;
    Atomics.store(ctl, cpuWord(this.slot, P_BUSY), 1);
    // A little random skew, so that the CPUs do not always start in the same phase.
    for (let j = this.rng.int(32); j > 0; j--) Atomics.load(ctl, C_STOP);
    let steps = 0;
    let nextEvent = this.nextArrival();
    const startSteps = cpu.steps;
    for (;;) {
      if (cpu.stack.length === 0) {
        if (this.fireNextArrival()) {
          nextEvent = this.nextArrival();
          continue;
        }
        if (this.takeMail()) continue;
        if (this.hasWaitingThread()) {
          // A thread waits for something another CPU may signal: idle until the watchdog decides.
          if (Atomics.load(ctl, C_STOP) === STOP_NOW) return this.stopped();
          if (this.expireTimer()) continue;
          this.publish();
          Atomics.wait(ctl, C_GEN, Atomics.load(ctl, C_GEN), 1);
          continue;
        }
        break;
      }
      m.stepCpu(cpu);
      const c = m.cur;
      if (c.blockedOn !== NOT_BLOCKED) {
        // OP_SPIN means PAUSE here: the context keeps running and re-reads the word for real.
        c.blockedOn = NOT_BLOCKED;
        if (m.blocked.length !== 0) m.blocked.length = 0;
        this.noteSpin(c, c.opAddr, steps);
      }
      if (c.finished) this.finished++;
      if (++steps >= nextEvent) {
        this.fireDue(steps);
        nextEvent = this.nextArrival();
      }
      if ((steps & PUBLISH_EVERY) === 0) {
        this.operations += steps - this.iterSteps;
        this.iterSteps = steps;
        this.publish();
        if (Atomics.load(ctl, C_STOP) === STOP_NOW) return this.stopped(steps);
        if (Atomics.load(ctl, this.mbox) !== Atomics.load(ctl, this.mbox + 1)) this.takeMail();
      }
    }
    this.operations += steps - this.iterSteps;
    this.iterSteps = 0;
    this.expect = Math.max(1, Math.round((this.expect * 7 + (cpu.steps - startSteps)) / 8));
    this.dpcs += cpu.dpcsRun;
    this.interrupts += cpu.interruptsTaken;
    this.switches += cpu.contextSwitches;
    cpu.dpcsRun = 0;
    cpu.interruptsTaken = 0;
    cpu.contextSwitches = 0;
    this.iterations++;
    Atomics.store(ctl, cpuWord(this.slot, P_BUSY), 0);
    this.publish();
    return true;
  }

  // ---- twin mode: plain functions, DPCs and interrupts nested at scheduling points ---------------

  iterationTwin(): boolean {
    const { m, ctl } = this;
    const cpu = this.cpu;
    Atomics.store(ctl, cpuWord(this.slot, P_BUSY), 1);
    for (let j = this.rng.int(32); j > 0; j--) Atomics.load(ctl, C_STOP);
    this.tSteps = 0;
    this.iterSteps = 0;
    this.tNext = this.nextArrival();
    this.tPublish = PUBLISH_EVERY + 1;
    this.tBatch = m.pointsLeft = 1;
    m.point = this.pointFn;
    try {
      const own = this.twinThread;
      if (own !== null) {
        // Once per iteration: mail that arrives after the thread ended (endBarrier) runs this again.
        this.twinThread = null;
        const t = own.thread;
        m.cur = t.ctx;
        m.cpu = cpu;
        this.deliverNested();
        this.startActor(own.plan);
        this.deliverNested();
        m.cur = t.ctx;
        m.endThread(t);
        this.finished++;
      }
      for (;;) {
        this.deliverNested();
        if (this.fireNextArrival()) continue;
        if (this.takeMail()) continue;
        break;
      }
    } catch (e) {
      if (e === STOP) return this.stopped(this.tSteps);
      throw e;
    } finally {
      this.countPoints();
      m.point = null;
    }
    this.operations += this.tSteps - this.iterSteps;
    this.iterSteps = 0;
    this.expect = Math.max(1, Math.round((this.expect * 7 + this.tSteps) / 8));
    this.dpcs += cpu.dpcsRun;
    this.interrupts += cpu.interruptsTaken;
    cpu.dpcsRun = 0;
    cpu.interruptsTaken = 0;
    this.iterations++;
    Atomics.store(ctl, cpuWord(this.slot, P_BUSY), 0);
    this.publish();
    return true;
  }

  /**
   * Twin mode: adds the points at() counted down since the last call to the
   * step count, and leaves a batch of one, so that code running from here on
   * (a DPC delivered below) calls point() at its first scheduling point.
   */
  /**
   * Counts a PAUSE of `ctx` spinning on `addr` at scheduling point `at`. On a host with fewer cores
   * than CPU workers, the worker a spin waits for — the lock's holder, or in a queued lock the
   * waiter it was handed to — may have no core at all; spinning on then only keeps it off. So after
   * a long unbroken spin on one word this worker sleeps for a moment and gives its core away, as a
   * hypervisor's pause-loop exiting does with a spinning virtual CPU. Scenario semantics do not
   * change: the spin goes on after the pause, re-reading the word for real.
   */
  noteSpin(ctx: ExecContext, addr: number, at: number): void {
    this.spins++;
    // Consecutive: the same context and word, with at most a re-try (an RMW) between two PAUSEs.
    if (ctx === this.lastSpinCtx && addr === this.lastSpinAddr && at - this.lastSpinAt <= 2) {
      if (++this.spinRun >= PAUSE_LOOP_WINDOW && this.job.oversubscribed === true) {
        this.spinRun = 0;
        this.hostPauses++;
        Atomics.wait(this.ctl, C_GEN, Atomics.load(this.ctl, C_GEN), PAUSE_LOOP_SLEEP_MS);
      }
    } else this.spinRun = 0;
    this.lastSpinCtx = ctx;
    this.lastSpinAddr = addr;
    this.lastSpinAt = at;
  }

  countPoints(): number {
    const m = this.m;
    const t = (this.tSteps += this.tBatch - m.pointsLeft);
    this.tBatch = m.pointsLeft = 1;
    return t;
  }

  /** Work was queued on this CPU between scheduling points (a DPC, an interrupt): the next point must look. */
  prompt(): void {
    const left = this.m.pointsLeft;
    if (left > 1) {
      this.tBatch -= left - 1;
      this.m.pointsLeft = 1;
    }
  }

  /**
   * A scheduling point of twin code where something may be due: arrivals,
   * delivery of interrupts and DPCs, publication of the counters and the stop
   * flag. at() calls it when the batch it granted runs out, at every spin and
   * wait; the next batch ends at the next due step, or after one point while
   * an interrupt or DPC is pending (it becomes deliverable when IRQL drops).
   */
  point(op: number): void {
    const s = this.countPoints();
    const m = this.m;
    if (op === OP_SPIN) {
      this.noteSpin(m.cur, m.opAddr, s);
    } else if (op === OP_WAIT) {
      this.waitTwin();
    }
    if (s >= this.tNext) {
      this.fireDue(s);
      this.tNext = this.nextArrival();
    }
    const cpu = this.cpu;
    if (cpu.interrupts.length !== 0 || (cpu.dpcQueue.length !== 0 && cpu.irql < DISPATCH_LEVEL)) this.deliverNested();
    // Points of the routines delivered above count too.
    const t = this.countPoints();
    if (t >= this.tPublish) {
      this.tPublish = (t | PUBLISH_EVERY) + 1;
      this.operations += t - this.iterSteps;
      this.iterSteps = t;
      this.publish();
      if (Atomics.load(this.ctl, C_STOP) === STOP_NOW) throw STOP;
      if (Atomics.load(this.ctl, this.mbox) !== Atomics.load(this.ctl, this.mbox + 1)) this.takeMail();
    }
    if (cpu.interrupts.length === 0 && cpu.dpcQueue.length === 0) {
      const due = this.tNext < this.tPublish ? this.tNext : this.tPublish;
      if (due - t > 1) this.tBatch = m.pointsLeft = due - t;
    }
  }

  /**
   * Twin mode: runs pending interrupts above the CPU's IRQL, then DPCs below DISPATCH_LEVEL, each
   * to completion, nested in the code at the scheduling point (the machine's delivery and end checks).
   */
  deliverNested(): void {
    const m = this.m;
    const cpu = this.cpu;
    for (;;) {
      const start = m.beginDelivery(cpu);
      if (start === null) return;
      const ctx = cpu.stack[cpu.stack.length - 1]!;
      const prev = m.cur;
      m.cur = ctx;
      const r = start() as unknown;
      if (r && typeof (r as Routine).next === 'function') throw notTwinned(ctx.name);
      this.finished++;
      m.endNested(ctx);
      m.cur = prev;
    }
  }

  nextArrival(): number {
    let at = Infinity;
    for (const a of this.local) if (a.armed && a.at < at) at = a.at;
    return at;
  }

  fireDue(steps: number): void {
    for (const a of this.local) {
      if (a.armed && a.at <= steps) {
        this.m.cur = this.cpu.top ?? this.setupCtx;
        a.fire();
        a.at = steps + 1 + this.rng.int(this.expect + 1);
      }
    }
  }

  fireNextArrival(): boolean {
    for (const a of this.local) {
      if (a.armed) {
        a.fire();
        a.at = 0;
        return true;
      }
    }
    return false;
  }

  hasWaitingThread(): boolean {
    for (const t of this.m.threads) if (t.cpu === this.cpu && t.state === 'waiting') return true;
    return false;
  }

  /**
   * Twin mode: the only thread of this CPU waits (OP_WAIT). The CPU idles in here — running DPCs
   * and interrupts that arrive, taking mail — until someone readies the thread, which then keeps
   * running where it stopped.
   */
  waitTwin(): void {
    const m = this.m;
    const ctx = m.cur;
    const cpu = this.cpu;
    const t = m.checkCanWait(ctx);
    const ctl = this.ctl;
    let until = -1;
    for (let i = 0; t.state === 'waiting'; i++) {
      this.deliverNested();
      if (t.state !== 'waiting') break;
      if (this.fireNextArrival() || this.takeMail()) continue;
      if (Atomics.load(ctl, C_STOP) === STOP_NOW) throw STOP;
      if ((i & 63) === 63) {
        this.publish();
        const now = performance.now();
        if (until < 0) until = now + this.job.spinMicros / 1000;
        else if (now > until) {
          // Idle rounds count as in generator mode: 1 ms sleeps, not spins.
          if (this.expireTimer()) continue;
          Atomics.wait(ctl, C_GEN, Atomics.load(ctl, C_GEN), 1);
        }
      }
    }
    // readyThread queued it; in twin mode it never left the CPU, so it just goes on running.
    const i = cpu.ready.indexOf(t);
    if (i >= 0) cpu.ready.splice(i, 1);
    t.state = 'running';
    m.cur = ctx;
    m.cpu = cpu;
  }

  /**
   * Free-run has no clock for a wait's timeout (its value is not modelled): a timed wait of one of
   * this CPU's threads (an armed event on Machine.events) expires when the CPU has been idle for a
   * few rounds, a random number each time — long enough that a signal from another CPU usually
   * comes first, not always. True when one expired.
   */
  expireTimer(): boolean {
    for (const e of this.m.events) {
      if (!e.armed || e.cpu !== this.cpu.index) continue;
      if (this.timerRounds < 0) this.timerRounds = this.rng.int(4);
      if (this.timerRounds-- > 0) return false;
      this.timerRounds = -1;
      e.fire();
      return true;
    }
    return false;
  }

  // ---- the dispatcher lock, DPCs and thread wake-ups across CPUs --------------------------------

  /** Machine.lockDispatcher: an Atomics spin lock on a control word, nesting on this CPU. */
  lockDispatcher(): void {
    if (this.dispatcherDepth++ !== 0) return;
    const ctl = this.ctl;
    const me = this.slot + 1;
    for (let i = 1; Atomics.compareExchange(ctl, C_DISPATCHER_LOCK, 0, me) !== 0; i++) {
      if ((i & 1023) === 0) {
        if (Atomics.load(ctl, C_STOP) === STOP_NOW) {
          this.dispatcherDepth = 0;
          throw STOP;
        }
        // The holder's worker may have lost its host core: let it have ours for a moment.
        if (i >= 8192) Atomics.wait(ctl, C_DISPATCHER_LOCK, Atomics.load(ctl, C_DISPATCHER_LOCK), 0.02);
      }
    }
  }

  unlockDispatcher(): void {
    if (--this.dispatcherDepth === 0) Atomics.store(this.ctl, C_DISPATCHER_LOCK, 0);
  }

  /** Claims an entry of another CPU's mailbox; -1 when told to stop while it was full. */
  claimEntry(target: LogicalCpu, what: string): number {
    const ctl = this.ctl;
    const slot = this.m.online.indexOf(target);
    if (slot < 0) throw new ScenarioError(`${what} for CPU ${target.index}, which is not online`);
    const base = mailboxBase(this.n, slot);
    Atomics.add(ctl, C_INFLIGHT, 1);
    // Several CPUs may post to one mailbox: claim an entry by bumping the write index.
    const i = Atomics.add(ctl, base, 1);
    while (i - Atomics.load(ctl, base + 1) >= MAILBOX_SLOTS) {
      if (Atomics.load(ctl, C_STOP) === STOP_NOW) return -1;
    }
    return base + 2 + (i % MAILBOX_SLOTS) * MAILBOX_ENTRY;
  }

  postDpc(target: LogicalCpu, dpc: number, front: boolean): void {
    const ctl = this.ctl;
    const e = this.claimEntry(target, 'a DPC was queued');
    if (e < 0) return;
    Atomics.store(ctl, e + 1, this.m.read(dpc + DPC_ARGUMENT1));
    Atomics.store(ctl, e + 2, this.m.read(dpc + DPC_ARGUMENT2));
    Atomics.store(ctl, e + 3, front ? 1 : 0);
    Atomics.store(ctl, e, dpc + 1);
    Atomics.notify(ctl, C_GEN);
  }

  /** Readies a waiting thread of another CPU: its worker does it when it next takes its mail. */
  postReady(t: Thread, status: number): void {
    this.postThreadMail(t, MAIL_READY, status);
  }

  postKick(t: Thread): void {
    this.postThreadMail(t, MAIL_KICK, 0);
  }

  /** Mail about a thread of another CPU (MAIL_READY with its wait status, or MAIL_KICK). */
  postThreadMail(t: Thread, kind: number, status: number): void {
    const ctl = this.ctl;
    const e = this.claimEntry(t.cpu, `thread '${t.name}' was ${kind === MAIL_READY ? 'readied' : 'sent an APC'}`);
    if (e < 0) return;
    Atomics.store(ctl, e + 1, status);
    Atomics.store(ctl, e + 2, kind);
    Atomics.store(ctl, e + 3, 0);
    Atomics.store(ctl, e, -t.kthread);
    Atomics.notify(ctl, C_GEN);
  }

  /** Queues DPCs other CPUs sent here; true if there were any. */
  takeMail(): boolean {
    const ctl = this.ctl;
    const base = this.mbox;
    let took = false;
    for (;;) {
      const r = Atomics.load(ctl, base + 1);
      if (r === Atomics.load(ctl, base)) return took;
      const e = base + 2 + (r % MAILBOX_SLOTS) * MAILBOX_ENTRY;
      let v: number;
      while ((v = Atomics.load(ctl, e)) === 0) {
        if (Atomics.load(ctl, C_STOP) === STOP_NOW) return took;
      }
      const dpc = v - 1;
      const a1 = Atomics.load(ctl, e + 1);
      const a2 = Atomics.load(ctl, e + 2);
      const front = Atomics.load(ctl, e + 3) === 1;
      Atomics.store(ctl, e, 0);
      Atomics.store(ctl, base + 1, r + 1);
      took = true;
      if (v < 0) {
        this.threadMail(-v, a2, a1);
        continue;
      }
      const entry = this.k.dpcs.routines.get(dpc);
      if (!entry) throw new ScenarioError(`a DPC at ${this.m.nameOf(dpc)} was queued to CPU ${this.cpu.index}, which does not know it`);
      const k = this.k;
      const words = this.words;
      const inflight = (): void => {
        Atomics.store(words, dpc + DPC_RUNNING, 0);
        Atomics.sub(ctl, C_INFLIGHT, 1);
      };
      const routine = entry.routine;
      const twin = this.twin;
      this.m.queueDpc(this.cpu, entry.name, dpc, () => {
        // As insertQueueDpc's closure: DpcData is cleared before the routine runs.
        Atomics.store(words, dpc + DPC_DATA, 0);
        Atomics.store(words, dpc + DPC_RUNNING, 1);
        const ctxArg = Atomics.load(words, dpc + DPC_DEFERRED_CONTEXT);
        if (!twin) return countDone(routine(k, dpc, ctxArg, a1, a2), inflight);
        try {
          return routine(k, dpc, ctxArg, a1, a2);
        } finally {
          inflight();
        }
      }, front);
    }
  }

  /**
   * Mail about one of this CPU's threads: ready it (the waker already unlinked its wait), or look
   * at it again for an APC queued from another CPU — between steps, so that no routine of this
   * CPU is the current context.
   */
  threadMail(kthread: number, kind: number, status: number): void {
    const ctl = this.ctl;
    const m = this.m;
    try {
      const t = m.threads.find((x) => x.kthread === kthread);
      if (!t || t.cpu !== this.cpu) throw new ScenarioError(`CPU ${this.cpu.index} got mail for ${m.nameOf(kthread)}, which is not one of its threads`);
      if (kind === MAIL_READY) m.readyThread(t, status);
      else if (m.onThreadKick !== null && !this.twin) {
        // (A twin thread runs as a plain function and cannot be stopped from outside: the APC waits
        // for the thread's next delivery point.)
        const cur = m.cur;
        m.cur = this.setupCtx;
        try {
          m.onThreadKick(t);
        } finally {
          m.cur = cur;
        }
      }
    } finally {
      Atomics.sub(ctl, C_INFLIGHT, 1);
    }
  }

  // ---- the end of an iteration --------------------------------------------------------------

  /** Waits for every CPU; the last one checks the invariants and opens the next iteration. False to stop. */
  endBarrier(): boolean {
    const ctl = this.ctl;
    const n = this.n;
    const gen = Atomics.load(ctl, C_GEN);
    Atomics.add(ctl, C_ARRIVED, 1);
    let until = -1;
    for (let i = 0; ; i++) {
      if (Atomics.load(ctl, C_GEN) !== gen) return Atomics.load(ctl, C_STOP) === 0;
      if (Atomics.load(ctl, C_STOP) === STOP_NOW) return false;
      if (Atomics.load(ctl, this.mbox) !== Atomics.load(ctl, this.mbox + 1)) {
        // Another CPU queued a DPC here after this one finished: run it, then arrive again.
        Atomics.sub(ctl, C_ARRIVED, 1);
        this.takeMail();
        if (!this.iteration()) return false;
        this.iterations--;
        Atomics.add(ctl, C_ARRIVED, 1);
        continue;
      }
      if (Atomics.load(ctl, C_ARRIVED) === n && Atomics.load(ctl, C_INFLIGHT) === 0 && Atomics.compareExchange(ctl, C_ARRIVED, n, CLOSING) === n) {
        this.close();
        openBarrier(ctl);
        return Atomics.load(ctl, C_STOP) === 0;
      }
      if ((i & 63) === 63) {
        const t = performance.now();
        if (until < 0) until = t + this.job.spinMicros / 1000;
        else if (t > until) Atomics.wait(ctl, C_GEN, gen, 1);
      }
    }
  }

  close(): void {
    const ctl = this.ctl;
    let r: StuckReport | null;
    try {
      // End-of-run checks of the kernel families (e.g. an IRP left pending), then the scenario's invariants.
      r = checkEndOfRun(this.m, this.k, this.job.scenario.id, this.invariants, this.state);
    } catch (e) {
      this.m.cur = this.setupCtx;
      this.closing = true;
      this.fail(e);
      return;
    }
    if (r) {
      if (Atomics.compareExchange(ctl, C_FAIL, 0, this.slot + 1) === 0) {
        this.outcome = r.kind;
        this.failure = {
          kind: r.kind, message: r.message, cpu: this.cpu.index,
          routine: `end of iteration ${Atomics.load(ctl, C_ITER) + 1}`, step: this.operations, cpus: [snapshotCpu(this.m, this.cpu)],
          ...(r.waits.length > 0 ? { waits: r.waits } : {}),
          ...(r.liveness ? { liveness: r.liveness } : {}),
        };
      }
      requestStop(ctl, STOP_NOW);
      return;
    }
    const it = Atomics.add(ctl, C_ITER, 1) + 1;
    const max = Atomics.load(ctl, C_MAX_ITER);
    if ((max > 0 && it >= max) || Atomics.load(ctl, C_TIME_UP) !== 0) requestStop(ctl, STOP_AT_BOUNDARY);
  }

  // ---- reporting ----------------------------------------------------------------------------

  publish(): void {
    const ctl = this.ctl;
    const s = this.slot;
    Atomics.store(ctl, cpuWord(s, P_STEPS), (this.operations + 0) | 0);
    Atomics.store(ctl, cpuWord(s, P_ACQUIRE), this.m.lockOwners.acquisitions | 0);
    Atomics.store(ctl, cpuWord(s, P_SPINS), this.spins | 0);
    Atomics.store(ctl, cpuWord(s, P_PROGRESS), (this.m.changes + this.finished + this.m.lockOwners.acquisitions) | 0);
  }

  /** Told to stop in the middle of an iteration: remember what this CPU was doing. */
  stopped(steps = 0): boolean {
    this.stoppedState = this.capture(steps);
    return false;
  }

  capture(steps: number): CpuState {
    const { m } = this;
    const cpu = this.cpu;
    const held: LockRef[] = [];
    for (const c of cpu.stack) for (const a of c.heldLocks) held.push({ addr: a, name: m.nameOf(a), context: c.name });
    const top = cpu.top;
    const spinning = top !== undefined && this.lastSpinCtx === top && steps - this.lastSpinAt < 64;
    let live = cpu.stack.length + cpu.ready.length + cpu.dpcQueue.length + cpu.interrupts.length;
    const waits: { thread: string; reason: string }[] = [];
    for (const t of m.threads) {
      if (t.cpu === cpu && t.state === 'waiting') {
        // A twin thread waits on the stack (it never leaves the CPU): count it once.
        if (cpu.stack[0] !== t.ctx) live++;
        waits.push({ thread: t.name, reason: t.waitReason || 'an object' });
      }
    }
    const snap = snapshotCpu(m, cpu, spinning ? this.lastSpinAddr : -1);
    return {
      snapshot: snap,
      ...(spinning ? { spin: { addr: this.lastSpinAddr, name: m.nameOf(this.lastSpinAddr), context: top.name, irql: cpu.irql } } : {}),
      held,
      live,
      ...(waits.length > 0 ? { waits } : {}),
      idle: cpu.stack.length === 0,
    };
  }

  /** Turns what a routine threw into this run's failure, if it is the first one anywhere. */
  fail(e: unknown): void {
    const ctl = this.ctl;
    const first = Atomics.compareExchange(ctl, C_FAIL, 0, this.slot + 1) === 0;
    if (first) {
      const { outcome, failure } = this.classify(e);
      this.outcome = outcome;
      this.failure = failure;
    }
    requestStop(ctl, STOP_NOW);
  }

  classify(e: unknown): { outcome: Exclude<OutcomeKind, 'pass'>; failure: Omit<Failure, 'schedule'> } {
    const m = this.m;
    const ctx = m.cur && m.cur !== this.setupCtx ? m.cur : undefined;
    return classifyFailure(e, this.job.scenario.id, ctx, {
      cpu: this.cpu?.index ?? this.slot,
      routine: ctx ? ctx.routine : this.closing ? `invariant check after iteration ${Atomics.load(this.ctl, C_ITER) + 1}` : 'setup',
      step: this.operations,
      cpus: this.cpu ? [snapshotCpu(m, this.cpu)] : [],
    });
  }
}

function notTwinned(name: string): ScenarioError {
  return new ScenarioError(
    `free-run: '${name}' returned a generator in plain-function mode — a module it calls was not turned into a twin ` +
      "(see bin/twin-loader.mjs); run with mode 'generators'",
  );
}

/** Wraps a DPC routine so that `done` runs when it returns or throws. */
function* countDone<T>(g: Routine<T>, done: () => void): Routine<T> {
  try {
    return yield* g;
  } finally {
    done();
  }
}
