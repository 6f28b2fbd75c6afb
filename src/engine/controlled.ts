/**
 * The controlled engine: all logical CPUs of one run in one thread, a
 * strategy choosing at every step which CPU performs its next operation (or
 * which asynchronous event happens). Same rig, scenario, strategy and seed:
 * the same run, step for step.
 */
import { ScenarioError } from '../machine/bugcheck.ts';
import { ExecContext, NOT_BLOCKED, type LogicalCpu } from '../machine/cpu.ts';
import { irqlName } from '../machine/irql.ts';
import { Machine, type AsyncEvent } from '../machine/machine.ts';
import { OP_READ, OP_WRITE, type Routine } from '../machine/ops.ts';
import { rigFingerprint, type Rig } from '../machine/rig.ts';
import { insertQueueDpc } from '../kernel/dpc.ts';
import { INTERRUPT_CONNECTED, INTERRUPT_IRQL } from '../kernel/interrupt.ts';
import { Kernel } from '../kernel/kernel.ts';
import type { Invariant, Scenario } from '../scenario/define.ts';
import type { CpuSnapshot, Failure, OutcomeKind } from './outcome.ts';
import { choicesFromDeviations, encodeSchedule, type ScheduleOrigin } from './schedule.ts';
import { asyncActor, isAsync } from './actor-checks.ts';
import { checkEndOfRun, classifyFailure, failureAt, snapshotCpus, type FailureSite } from './failure.ts';
import { namedStuck } from '../kernel/liveness.ts';
import { placeActors, setUpRun, type ActorPlacement, type PlannedActor } from './instantiate.ts';
import { decodeWeakChoice, defaultChoice, MAX_EVENT_CHOICES, MAX_TIMER_CHOICES, timerChoiceBase, weakChoiceBase, type Strategy } from './strategy.ts';
import { MAX_STALE_READS, MAX_STORE_AGE, ORDER_MASK, STORE_BUFFER_DEPTH, VARIANT_BUFFER, VARIANT_DEFAULT, type MemoryOrder } from '../machine/weak-memory.ts';
import { driverUnloadRoutine, unloadStuckNote } from '../kernel/unload.ts';
import { TraceRecorder, type TraceStep } from './trace.ts';

/** One execution of a scenario under one schedule. */
export interface Execution {
  outcome: OutcomeKind;
  /** Without `schedule` filled in: see ControlledRun.scheduleOf. */
  failure?: Omit<Failure, 'schedule'>;
  steps: number;
  /** (step, choice) pairs where the strategy departed from the default. */
  deviations: Int32Array;
  trace?: TraceStep[];
}

function* idle(): Routine<void> {}

/**
 * Steps a run may take past a watchdog, when guessed spinners had to be
 * resumed in it, to reach the state where only they could run again: that
 * state, not the watchdog, is then reported (it names who spins on what).
 */
const SPIN_DRAIN_STEPS = 1024;

interface ActorPlan extends PlannedActor {
  arrival?: Arrival;
}

/**
 * A DPC or interrupt actor's arrival: an asynchronous event the strategy
 * fires at a moment of its choosing, `count` times per run. Made once per
 * scenario and re-armed for each run.
 */
class Arrival implements AsyncEvent {
  armed = false;
  cpu = 0;
  readonly name: string;
  private remaining = 0;
  private target: LogicalCpu | null = null;
  object = 0;
  /** An interrupt arrives only while its object is connected (IoConnectInterrupt… IoDisconnectInterrupt). */
  private connected = true;

  constructor(
    private readonly run: ControlledRun,
    private readonly plan: ActorPlan,
    private readonly kind: 'dpc' | 'interrupt',
    private readonly count: number,
  ) {
    this.name = plan.name;
  }

  arm(cpu: LogicalCpu, object: number): void {
    this.target = cpu;
    this.cpu = cpu.index;
    this.object = object;
    this.remaining = this.count;
    this.connected = this.kind === 'dpc' || this.run.m.words[object + INTERRUPT_CONNECTED] !== 0;
    this.armed = this.count > 0 && this.connected;
  }

  /** The kernel connected or disconnected this interrupt actor's object. */
  connectionChanged(connected: boolean): void {
    this.connected = connected;
    this.armed = this.remaining > 0 && connected;
  }

  fire(): void {
    const { k, m } = this.run;
    if (this.kind === 'dpc') insertQueueDpc(k, this.object, 0, 0);
    else {
      const intr = this.object;
      m.requestInterrupt(this.target!, this.name, m.words[intr + INTERRUPT_IRQL]!, () => k.runInterruptServiceRoutine(intr, () => this.run.startActor(this.plan)));
    }
    if (--this.remaining <= 0) this.armed = false;
  }
}

export class ControlledRun {
  readonly m: Machine;
  readonly k: Kernel;
  private choices: Int32Array;
  private dev = new Int32Array(256);
  private devLen = 0;
  /** Views of dev by length, made once: a subarray per execution was a measurable share of a short schedule. */
  private devViews: Int32Array[] = [];
  private readonly setupCtx: ExecContext;
  /** Bumped every 256 steps when set: a watcher on another thread tells a long run from a routine that never yields. */
  stepBeat: Int32Array | undefined;
  private state: unknown;
  private readonly fingerprint: number;
  private readonly plans: ActorPlan[];
  private readonly invariants: [string, Invariant<unknown>][];

  constructor(
    readonly rig: Rig,
    readonly scenario: Scenario,
  ) {
    this.m = new Machine(rig);
    this.k = new Kernel(this.m);
    this.choices = new Int32Array(2 * this.m.cpus.length + 64);
    this.fair = new Int32Array(this.choices.length);
    this.yieldAt = new Int32Array(this.m.cpus.length);
    this.lastStep = new Int32Array(this.m.cpus.length);
    this.setupCtx = new ExecContext(-1, 'thread', 'setup', idle(), this.m.cpus[0]!, null);
    this.fingerprint = rigFingerprint(rig);
    this.weakBase = weakChoiceBase(this.m.cpus.length);
    this.plans = Object.entries(scenario.actors).map(([name, actor]) => {
      const plan: ActorPlan = { name, actor };
      if (actor.kind === 'dpc') {
        // The actor's own generator is the DPC routine: no wrapper frame on every step.
        plan.dpcRoutine = (): Routine<unknown> => this.startActor(plan);
        plan.arrival = new Arrival(this, plan, 'dpc', actor.arrivals ?? 1);
      } else if (actor.kind === 'interrupt') {
        plan.arrival = new Arrival(this, plan, 'interrupt', actor.arrivals ?? 1);
      }
      return plan;
    });
    this.invariants = Object.entries(scenario.invariants ?? {});
    const interruptArrivals = this.plans.filter((p) => p.actor.kind === 'interrupt').map((p) => p.arrival!);
    if (interruptArrivals.length !== 0) {
      this.k.interrupts.onConnection = (intr, connected) => {
        for (const a of interruptArrivals) if (a.object === intr) a.connectionChanged(connected);
      };
    }
  }

  /**
   * What the scenario's setup returns on this rig, on a fresh machine: setup is deterministic, so its
   * addresses are every run's (an expectation that names an object from setup is checked against them).
   */
  setupState(): unknown {
    return setUpRun(this.m, this.k, this.scenario, this.setupCtx);
  }

  /** Resets the machine and builds the scenario's objects, threads and events. */
  private instantiate(): void {
    const { m, k } = this;
    this.state = setUpRun(m, k, this.scenario, this.setupCtx);
    placeActors(m, k, this.scenario, this.state, this.plans, this.placement);
  }

  private readonly placement: ActorPlacement<ActorPlan> = {
    thread: (plan, cpu, startIrql) => {
      const routine = this.startActor(plan);
      const unload = (plan.actor as { unload?: boolean }).unload === true;
      this.m.createThread(plan.name, cpu, startIrql, unload ? driverUnloadRoutine(this.k, plan.name, routine) : routine);
    },
    dpc: (plan, cpu, dpc) => {
      plan.arrival!.arm(cpu, dpc);
      this.m.events.push(plan.arrival!);
    },
    interrupt: (plan, cpu, intr) => {
      plan.arrival!.arm(cpu, intr);
      this.m.events.push(plan.arrival!);
    },
  };

  /** Creates an actor's routine for this run's state; refuses a plain function, which could not be interleaved. */
  startActor(plan: ActorPlan): Routine<unknown> {
    const g = plan.actor.run(this.k, this.state as never);
    if (isAsync(g)) throw asyncActor(this.scenario.id, plan.name);
    if (!g || typeof (g as Routine<unknown>).next !== 'function') {
      throw new ScenarioError(`scenario '${this.scenario.id}': actor '${plan.name}' must be a generator function (function*), so that it can be interleaved`);
    }
    return g;
  }

  /** How many of this.choices are CPU steps and quantum ends (valid while the machine is not stale). */
  private cpuChoices = 0;

  /**
   * Fills this.choices with every enabled choice, ascending; returns how many.
   * The CPU part is recomputed only when the machine says something changed;
   * armed events are listed afresh each time (kernel code arms and disarms them).
   */
  private enumerate(): number {
    const m = this.m;
    const count = m.stale ? this.enumerateCpus() : this.cpuChoices;
    let all = m.events.length === 0 ? count : this.enumerateEvents(count);
    // A timer may expire while anything is still live; once all is done, a set timer no longer keeps the run going.
    // Not twice in a row: a periodic timer a strategy favours must not starve every processor.
    if (m.timers.length !== 0 && m.live !== 0 && (this.timerFiredAt !== m.step - 1 || all === 0)) all = this.enumerateTimers(all);
    // Weak-memory choices exist only once an ordering-API access was announced in this run (or the model is active).
    return this.ordered || m.weak.active ? this.enumerateWeak(all, count) : all;
  }

  /**
   * Set once a context of this run announced an ordering-API access (ReadNoFence, WriteRelease, …):
   * only then are weak-memory choices looked for, so a run without such accesses pays one
   * comparison per step for them.
   */
  private ordered = false;
  /** weakChoiceBase(n): ids at and above it are weak-memory choices. */
  private readonly weakBase: number;
  private readonly flushOut = new Int32Array(STORE_BUFFER_DEPTH);

  /**
   * The weak-memory choices (strategy.ts, weakChoiceBase), after the others, ascending: for each
   * CPU that can step, its pending store kept buffered, or its pending read returning one of the
   * older values the model allows; then, for each CPU, its buffered stores that may become visible.
   */
  private enumerateWeak(count: number, cpuPart: number): number {
    const m = this.m;
    const w = m.weak;
    const n = m.cpus.length;
    const base = this.weakBase;
    let c = this.choices;
    const room = count + n * (1 + MAX_STALE_READS + STORE_BUFFER_DEPTH);
    if (c.length < room) c = this.growChoices(room);
    let k = count;
    // Buffered steps, then stale reads: two passes keep the ids ascending.
    for (let i = 0; i < cpuPart; i++) {
      const id = c[i]!;
      if (id >= n) break;
      const top = m.cpus[id]!.top!;
      // The whole order goes to the model: with ORDER_FENCE_BEFORE (the fence search) the buffer drains first.
      if (top.op === OP_WRITE && (top.order & ORDER_MASK) !== 0 && w.canBuffer(id, top.opAddr, top.order as MemoryOrder)) c[k++] = base + id;
    }
    for (let i = 0; i < cpuPart; i++) {
      const id = c[i]!;
      if (id >= n) break;
      const top = m.cpus[id]!.top!;
      if (top.op !== OP_READ || (top.order & ORDER_MASK) === 0) continue;
      // A read that repeats the context's last access to the same word (a poll loop) sees the newest
      // value: a store becomes visible to a spinning reader eventually, and an older value offered
      // on every turn would let a strategy keep it spinning into a hang no machine shows.
      if (top.futile !== 0 && Math.floor(top.futileKey / 16) === top.opAddr) continue;
      const stale = Math.min(MAX_STALE_READS, w.staleOptions(id, top.opAddr, top.order as MemoryOrder));
      for (let j = 0; j < stale; j++) c[k++] = base + n + id * MAX_STALE_READS + j;
    }
    if (!w.active) return k;
    const out = this.flushOut;
    const flushBase = base + n * (1 + MAX_STALE_READS);
    for (let cpu = 0; cpu < n; cpu++) {
      if (w.buffered(cpu) === 0) continue;
      const f = w.flushable(cpu, out, 0);
      // The model lists entries ascending (weak-memory.ts); ids stay ascending with them.
      for (let j = 0; j < f; j++) c[k++] = flushBase + cpu * STORE_BUFFER_DEPTH + out[j]!;
    }
    return k;
  }

  /** Stores buffered longer than MAX_STORE_AGE steps become visible (weak-memory.ts says why). */
  private expireStores(recorder: TraceRecorder | null): void {
    if (recorder) recorder.beforeDrain();
    this.m.weak.expire(this.m.step - MAX_STORE_AGE);
    if (recorder) recorder.afterDrain();
    this.m.stale = true;
  }

  /** Makes every buffered store visible; false when none was buffered (nothing changed). */
  private drainWeak(recorder: TraceRecorder | null): boolean {
    const w = this.m.weak;
    if (!w.active) return false;
    let any = false;
    for (let cpu = 0; cpu < this.m.cpus.length && !any; cpu++) any = w.buffered(cpu) !== 0;
    if (!any) return false;
    if (recorder) recorder.beforeDrain();
    w.drainAll();
    if (recorder) recorder.afterDrain();
    this.m.stale = true;
    return true;
  }

  /**
   * Performs weak-memory choice `id`: a step of a CPU with its store buffered or its read
   * returning an older value (returns the CPU: the default next is a plain step of it), or a
   * buffered store becoming visible (returns -1: the running choice stays what it was).
   */
  private performWeak(id: number, recorder: TraceRecorder | null): number {
    const m = this.m;
    const w = decodeWeakChoice(id, m.cpus.length);
    if (w === null) throw new Error(`choice ${id} is not a choice of this engine`);
    if (w.kind === 'flush') {
      if (recorder) recorder.onFlush(w.cpu, w.entry);
      m.weak.flush(w.cpu, w.entry);
      m.stale = true;
      return -1;
    }
    m.variant = w.kind === 'buffered' ? VARIANT_BUFFER : w.k;
    try {
      m.stepCpu(m.cpus[w.cpu]!);
    } finally {
      m.variant = VARIANT_DEFAULT;
    }
    return w.cpu;
  }

  /** Step at which a timer last expired (-2: none yet in this run). */
  private timerFiredAt = -2;

  private enumerateTimers(count: number): number {
    const timers = this.m.timers;
    const base = timerChoiceBase(this.m.cpus.length);
    if (timers.length > MAX_TIMER_CHOICES) throw new ScenarioError(`scenario '${this.scenario.id}': more than ${MAX_TIMER_CHOICES} kernel timers in one run`);
    let c = this.choices;
    if (c.length < count + timers.length) c = this.growChoices(count + timers.length);
    for (let j = 0; j < timers.length; j++) if (timers[j]!.armed) c[count++] = base + j;
    return count;
  }

  /** The CPU part of the choices: top contexts that can step, then quantum ends worth offering. */
  private enumerateCpus(): number {
    const m = this.m;
    m.stale = false;
    const c = this.choices;
    const n = m.cpus.length;
    const online = m.online;
    let count = 0;
    let anyReady = false;
    for (let i = 0; i < online.length; i++) {
      const cpu = online[i]!;
      const stack = cpu.stack;
      if (stack.length !== 0 && stack[stack.length - 1]!.blockedOn === NOT_BLOCKED) c[count++] = cpu.index;
      if (cpu.ready.length !== 0) anyReady = true;
    }
    if (anyReady) {
      for (let i = 0; i < online.length; i++) {
        const cpu = online[i]!;
        if (cpu.ready.length !== 0 && m.canEndQuantum(cpu)) c[count++] = n + cpu.index;
      }
    }
    this.cpuChoices = count;
    return count;
  }

  private enumerateEvents(count: number): number {
    const ev = this.m.events;
    const base = 2 * this.m.cpus.length;
    if (ev.length > MAX_EVENT_CHOICES) throw new ScenarioError(`scenario '${this.scenario.id}': more than ${MAX_EVENT_CHOICES} asynchronous events in one run`);
    let c = this.choices;
    if (c.length < count + ev.length) c = this.growChoices(count + ev.length);
    for (let j = 0; j < ev.length; j++) if (ev[j]!.armed) c[count++] = base + j;
    return count;
  }

  private growChoices(needed: number): Int32Array {
    const g = new Int32Array(2 * needed);
    g.set(this.choices);
    this.choices = g;
    return g;
  }

  /** A choice that is not a CPU step: a quantum end or an asynchronous event. */
  private performOther(choice: number): void {
    const m = this.m;
    const n = m.cpus.length;
    if (choice < 2 * n) m.quantumEnd(m.cpus[choice - n]!);
    else if (choice < timerChoiceBase(n)) m.events[choice - 2 * n]!.fire();
    else {
      this.timerFiredAt = m.step;
      m.timers[choice - timerChoiceBase(n)]!.fire();
    }
  }

  private record(step: number, choice: number): void {
    if (this.devLen + 2 > this.dev.length) this.growDeviations();
    this.dev[this.devLen++] = step;
    this.dev[this.devLen++] = choice;
  }

  private growDeviations(): void {
    const g = new Int32Array(this.dev.length * 2);
    g.set(this.dev);
    this.dev = g;
    this.devViews = [];
  }

  // ---- fair scheduling ------------------------------------------------------------------------

  /**
   * Fair scheduling after CHESS: Musuvathi and Qadeer, "Fair Stateless Model
   * Checking", PLDI 2008. A step that changes nothing and observes nothing
   * new (Machine.yielded: a repeated futile read, a PAUSE, a wait satisfied at
   * once) is a yield: the CPU that made it is not offered again until every
   * other CPU that can step has stepped since. Without it, a strategy that
   * keeps one CPU running — PCT's strict priorities, DFS's default of
   * continuing the current choice — starves the CPU that would end a poll
   * loop, and reports a hang no machine would show. The rule depends only on
   * the run, so strategies, replay and DFS's tree all see the same choices.
   *
   * yieldAt[cpu]: the step of that CPU's yield, -1 once it has made a step
   * that was not one. lastStep[cpu]: its latest step, kept only while some
   * yield is pending (steps before it are all older than any pending yield).
   */
  private yieldAt: Int32Array;
  private lastStep: Int32Array;
  private yielders = 0;
  /** The choices offered when a yield holds some back. */
  private fair: Int32Array;

  private afterStep(strategy: Strategy, c: number, n: number, step: number): void {
    const m = this.m;
    if (c < n) {
      if (m.yielded) {
        if (this.yieldAt[c]! < 0) this.yielders++;
        this.yieldAt[c] = step;
        if (strategy.yielded !== undefined) strategy.yielded(c);
      } else if (this.yieldAt[c]! >= 0) {
        this.yieldAt[c] = -1;
        this.yielders--;
      }
      this.lastStep[c] = step;
    }
    m.yielded = false;
  }

  /** Fills this.fair with the choices not held back by a yield; returns how many (all of them, if every one is). */
  private fairChoices(count: number, n: number): number {
    const ch = this.choices;
    if (this.fair.length < ch.length) this.fair = new Int32Array(ch.length);
    const out = this.fair;
    let k = 0;
    const weakSteps = this.weakBase + n * (1 + MAX_STALE_READS);
    for (let i = 0; i < count; i++) {
      const id = ch[i]!;
      // A buffered step or a stale read is a step of its CPU: held back with it.
      const cpu = id < n ? id : id >= this.weakBase && id < weakSteps ? this.weakStepCpu(id, n) : -1;
      if (cpu >= 0 && this.yieldAt[cpu]! >= 0 && this.owesTurn(cpu, count, n)) continue;
      out[k++] = id;
    }
    if (k === 0) {
      out.set(ch.subarray(0, count));
      return count;
    }
    return k;
  }

  private weakStepCpu(id: number, n: number): number {
    const r = id - this.weakBase;
    return r < n ? r : Math.floor((r - n) / MAX_STALE_READS);
  }

  /** True when some other CPU that can step now has not stepped since `cpu` yielded. */
  private owesTurn(cpu: number, count: number, n: number): boolean {
    const ch = this.choices;
    const since = this.yieldAt[cpu]!;
    for (let j = 0; j < count; j++) {
      const u = ch[j]!;
      if (u >= n) break;
      if (u !== cpu && this.lastStep[u]! < since) return true;
    }
    return false;
  }

  /** Runs one execution to its end under `strategy` (which has had newExecution called). */
  execute(strategy: Strategy, options?: { trace?: boolean }): Execution {
    const m = this.m;
    this.devLen = 0;
    const recorder = options?.trace === true ? new TraceRecorder(m, () => this.state) : null;
    // A listener installed by the caller (the timed mode's cost model) stays unless a trace is asked for.
    const listener = m.onStep;
    if (recorder) m.onStep = recorder.onStep;
    let outcome: OutcomeKind = 'pass';
    let failure: Omit<Failure, 'schedule'> | undefined;
    try {
      this.instantiate();
      failure = this.runSteps(strategy, recorder);
      if (failure !== undefined) outcome = failure.kind;
      if (outcome === 'pass') {
        // End-of-run checks belong to no routine: whatever stepped last did not raise them.
        m.cur = this.setupCtx;
        const r = checkEndOfRun(m, this.k, this.scenario.id, this.invariants, this.state);
        if (r) {
          outcome = r.kind;
          failure = this.failure(r.kind, r.message, m.online[0]?.index ?? 0);
          if (r.waits.length > 0) failure.waits = r.waits;
          if (r.liveness) failure.liveness = r.liveness;
        }
      }
    } catch (e) {
      ({ outcome, failure } = this.classify(e));
    }
    strategy.endExecution?.(m.step);
    m.onStep = listener;
    recorder?.close();
    // A view, not a copy: valid until the next execute() (scheduleOf and explore copy what they keep).
    const deviations = (this.devViews[this.devLen] ??= this.dev.subarray(0, this.devLen));
    return { outcome, failure, steps: m.step, deviations, trace: recorder?.steps };
  }

  /** Steps the run until nothing is left to do; returns the failure that ended it early, if any. */
  private runSteps(strategy: Strategy, recorder: TraceRecorder | null): Omit<Failure, 'schedule'> | undefined {
    const m = this.m;
    const cpus = m.cpus;
    const n = cpus.length;
    const maxSteps = this.rig.watchdog.maxSteps;
    let limit = maxSteps;
    let current = -1;
    /** Guessed spinners resumed in this run (see Machine.resumeGuessedSpins). */
    let resumes = 0;
    /** The watchdog fired while guessed spinners kept being resumed: the next stuck state is the report. */
    let draining = false;
    this.yieldAt.fill(-1);
    // A step of the previous execution must not count as a turn in this one: the first execution
    // of a run and every later one (a replay and the search that recorded it) see the same choices.
    this.lastStep.fill(-1);
    this.yielders = 0;
    this.timerFiredAt = -2;
    this.ordered = false;
    m.yielded = false;
    for (;;) {
      const count = this.enumerate();
      if (count === 0) {
        // A run never ends, nor is reported stuck, with stores still buffered: one might end the wait.
        if (this.drainWeak(recorder)) continue;
        if (m.live === 0) return undefined;
        if (!draining && m.resumeGuessedSpins()) {
          resumes++;
          continue;
        }
        return this.stuck(draining ? resumes : 0);
      }
      let c: number;
      if (count === 1) c = this.choices[0]!;
      else {
        let choices = this.choices;
        let k = count;
        if (this.yielders !== 0) {
          k = this.fairChoices(count, n);
          choices = this.fair;
        }
        if (k === 1) c = choices[0]!;
        else {
          c = strategy.next(choices, k, current, m.step);
          if (c !== defaultChoice(choices, k, current)) this.record(m.step, c);
        }
      }
      if (c < n) {
        current = c;
        m.stepCpu(cpus[c]!);
        if (m.cur.order !== 0) this.ordered = true;
      } else if (c < this.weakBase) {
        current = c;
        if (recorder) recorder.onEvent(c);
        this.performOther(c);
      } else {
        const cpu = this.performWeak(c, recorder);
        if (cpu >= 0) {
          c = current = cpu;
          if (m.cur.order !== 0) this.ordered = true;
        }
      }
      if (m.weak.active && m.weak.hasStoreOlderThan(m.step - MAX_STORE_AGE)) this.expireStores(recorder);
      if (m.yielded || this.yielders !== 0) this.afterStep(strategy, c, n, m.step);
      if (++m.step >= limit) {
        // A hang a buffered store would end is not real: make them visible and go on, as for guessed spinners.
        if (draining || (resumes === 0 && !this.drainWeak(recorder))) return this.watchdogHang(maxSteps);
        draining = true;
        limit = m.step + SPIN_DRAIN_STEPS;
      }
      if ((m.step & 255) === 0 && !draining) {
        if (this.stepBeat) Atomics.add(this.stepBeat, 0, 1);
        const cpu = m.dpcWatchdogExpired();
        if (cpu) {
          if (resumes === 0 && !this.drainWeak(recorder)) return this.dpcWatchdogHang(cpu);
          draining = true;
          limit = m.step + SPIN_DRAIN_STEPS;
        }
      }
    }
  }

  /**
   * Nothing can run. `resumes` > 0: only guessed spinners could, and they were
   * resumed that often, each time re-reading the same value, until a watchdog
   * ended the run — the report says so.
   */
  private stuck(resumes: number): Omit<Failure, 'schedule'> {
    const m = this.m;
    const stuck = m.diagnoseStuck();
    // A context spinning on a word, else a thread waiting on an object: the report names the CPU it is on
    // (when nothing spins, the CPU that last stepped may be an idle one with nothing to do with the wait).
    const stuckCtx = m.blocked[0] ?? m.threads.find((t) => t.state === 'waiting')?.ctx;
    // A wait the kernel knows the meaning of (a rundown that never drains, …) names the failure.
    const named = namedStuck(this.k);
    const base = named ? `${stuck.kind}: ${named.message} — ${stuck.message.replace(/^(hang|deadlock): /, '')}` : stuck.message;
    let message = resumes === 0
      ? base
      : `${base} (each spin was resumed ${resumes} times and read the same value again every time, for ${m.step} steps: past the ${this.watchdogName()})`;
    const unload = unloadStuckNote(this.k);
    if (unload !== null) message += `. ${unload}`;
    const failure = this.failure(stuck.kind, message, stuckCtx ? stuckCtx.cpu.index : (m.online[0]?.index ?? 0), stuckCtx);
    failure.waits = stuck.waits;
    if (named) failure.liveness = { name: named.name, step: named.step };
    return failure;
  }

  private watchdogName(): string {
    const m = this.m;
    return m.step >= this.rig.watchdog.maxSteps ? `${this.rig.watchdog.maxSteps}-step watchdog` : `DPC watchdog (${this.rig.watchdog.dpcTimeoutSteps} steps at DISPATCH_LEVEL)`;
  }

  private watchdogHang(maxSteps: number): Omit<Failure, 'schedule'> {
    const m = this.m;
    const spinning: string[] = [];
    for (const cpu of m.online) {
      // A CPU whose latest step was a yield is looping without progress (see afterStep).
      const top = cpu.top;
      if (top === undefined || this.yieldAt[cpu.index]! < 0) continue;
      const what = top.futileKey !== 0 ? `keeps reading ${m.nameOf(Math.floor(top.futileKey / 16))}` : 'keeps yielding';
      spinning.push(`${top.kind} '${top.name}' on CPU ${cpu.index} ${what} with nothing changing`);
    }
    const detail = spinning.length ? ` — ${spinning.join('; ')}` : '';
    return this.failure('hang', `watchdog: the run did not finish within ${maxSteps} steps (livelock, or a loop that never ends)${detail}`, this.m.cpu?.index ?? 0);
  }

  private dpcWatchdogHang(cpu: LogicalCpu): Omit<Failure, 'schedule'> {
    return this.failure(
      'hang',
      `DPC_WATCHDOG_VIOLATION (0x133, parameter 1 = 1): CPU ${cpu.index} stayed at ${irqlName(cpu.irql)} for more than ${this.rig.watchdog.dpcTimeoutSteps} steps`,
      cpu.index,
    );
  }

  private classify(e: unknown): { outcome: OutcomeKind; failure: Omit<Failure, 'schedule'> } {
    const m = this.m;
    const ctx = m.cur && m.cur !== this.setupCtx ? m.cur : undefined;
    return classifyFailure(e, this.scenario.id, ctx, this.site(m.cur?.cpu.index ?? 0));
  }

  private failure(kind: Failure['kind'], message: string, cpu: number, at?: ExecContext): Omit<Failure, 'schedule'> {
    return failureAt(kind, message, this.site(cpu, at));
  }

  private site(cpu: number, at?: ExecContext): FailureSite {
    const m = this.m;
    const ctx = at ?? (m.cur && m.cur !== this.setupCtx ? m.cur : undefined);
    return { cpu, routine: ctx ? ctx.routine : m.step === 0 ? 'setup' : 'end of run', step: m.step, cpus: snapshotCpus(m) };
  }

  /** Every online CPU's IRQL, contexts, held locks and spins. */
  snapshot(): CpuSnapshot[] {
    return snapshotCpus(this.m);
  }

  /** The shareable schedule string of an execution; `origin` says which search found it. */
  scheduleOf(x: Execution, origin?: ScheduleOrigin, handMadePrefix?: number): string {
    return encodeSchedule({
      scenarioId: this.scenario.id,
      scenarioVersion: this.scenario.version,
      rigId: this.rig.id,
      rigFingerprint: this.fingerprint,
      steps: x.steps,
      outcome: x.outcome,
      ...(origin ? { origin } : {}),
      ...(handMadePrefix !== undefined ? { handMadePrefix } : {}),
      choices: choicesFromDeviations(x.deviations, this.m.cpus.length),
    });
  }
}
