/**
 * Be the scheduler: the user takes the strategy's place. A manual run is a
 * list of picks — (step, choice id) pairs, the same shape as a schedule's
 * choices — and the step it waits at. To show a point, the run is replayed
 * from the start: the picks where they are possible, the default elsewhere,
 * until the first decision point at or after that step (a step with one
 * enabled choice is no decision: it just runs). There the engine reports
 * exactly the enabled choices (after fair scheduling held back any, as every
 * strategy sees them), and what each would do. Taking one appends it and
 * moves on; the run so far, completed with default choices, is a schedule
 * string like any other (origin strategy `manual`, its picks a hand-made
 * prefix): replayable, storable, shareable.
 */
import { OP_NAMES } from '../machine/ops.ts';
import { logicalCpuCount, type Rig } from '../machine/rig.ts';
import type { Scenario } from '../scenario/define.ts';
import { ControlledRun } from './controlled.ts';
import { checkScheduleFits } from './explore.ts';
import type { Failure, OutcomeKind } from './outcome.ts';
import { decodeSchedule, deviationsFromChoices } from './schedule.ts';
import { prefixBefore } from './strategies/prefix.ts';
import { contains, decodeWeakChoice, defaultChoice, timerChoiceBase, weakChoiceBase, type Strategy } from './strategy.ts';
import { bufferedStoreOf } from './weak-events.ts';
import type { TraceStep } from './trace.ts';

export interface ManualChoice {
  /**
   * The engine's choice id: a CPU (0..n-1), a quantum end on CPU i (n+i), an asynchronous event j
   * (2n+j), a timer's expiry, or a weak-memory choice (strategy.ts, weakChoiceBase).
   */
  id: number;
  /** 'buffered': the CPU's step with its store kept buffered; 'stale': with its read returning an older value; 'flush': a buffered store becomes visible. */
  kind: 'cpu' | 'quantum-end' | 'event' | 'timer' | 'buffered' | 'stale' | 'flush';
  /** The CPU it happens on. */
  cpu: number;
  /** What taking it does, in words: "CPU 1: thread 'B' write s.counter (in KeAcquireSpinLock)". */
  label: string;
  /** The choice the engine takes when nobody picks. */
  isDefault: boolean;
}

export interface ManualState {
  /** (step, choice id) pairs picked so far, step ascending. */
  picks: number[];
  /** The step the run waits at for a pick; absent when the run has ended. */
  step?: number;
  /** The enabled choices at that step, ascending ids (empty when the run has ended). */
  choices: ManualChoice[];
  /** The run up to that step (every step when it has ended). */
  trace: TraceStep[];
  /** The run completed with default choices from here: its schedule string, outcome and failure. */
  schedule: string;
  outcome: OutcomeKind;
  failure?: Omit<Failure, 'schedule'>;
  /** True when the run ended before reaching a decision point: nothing is left to pick. */
  ended: boolean;
}

/** Thrown by the picking strategy to stop the run at the decision point. */
class Pause extends Error {}

/** Replays picks (where possible), then stops at the first decision point at or after `at`, listing its choices. */
class PickThenPause implements Strategy {
  readonly name = 'manual';
  private pos = 0;
  paused: { step: number; choices: number[]; defaultId: number } | undefined;
  constructor(
    private readonly picks: readonly number[],
    private readonly at: number,
  ) {}
  newExecution(): boolean {
    this.pos = 0;
    this.paused = undefined;
    return true;
  }
  next(choices: Int32Array, count: number, current: number, step: number): number {
    if (step >= this.at) {
      this.paused = { step, choices: Array.from(choices.subarray(0, count)), defaultId: defaultChoice(choices, count, current) };
      throw new Pause();
    }
    const d = this.picks;
    while (this.pos < d.length && d[this.pos]! < step) this.pos += 2;
    if (this.pos < d.length && d[this.pos] === step) {
      const want = d[this.pos + 1]!;
      this.pos += 2;
      if (contains(choices, count, want)) return want;
    }
    return defaultChoice(choices, count, current);
  }
}

/** Describes choice `id` in the run's current state (during a pause). */
export function describeManualChoice(run: ControlledRun, id: number, isDefault: boolean): ManualChoice {
  const m = run.m;
  const n = m.cpus.length;
  if (id < n) {
    const cpu = m.cpus[id]!;
    const top = cpu.stack[cpu.stack.length - 1];
    const op = top ? (OP_NAMES[top.op] ?? String(top.op)) : 'step';
    const addr = top && top.op !== 0 && top.opAddr > 0 ? ` ${m.nameOf(top.opAddr)}` : '';
    const api = top && top.apiStack.length > 0 ? ` (in ${top.apiStack[top.apiStack.length - 1]})` : '';
    const who = top ? `${top.kind} '${top.name}'` : 'idle';
    return { id, kind: 'cpu', cpu: id, label: `CPU ${id}: ${who} ${op}${addr}${api}`, isDefault };
  }
  if (id < 2 * n) {
    const cpu = m.cpus[id - n]!;
    return { id, kind: 'quantum-end', cpu: cpu.index, label: `CPU ${cpu.index}: quantum end (${cpu.thread?.name ?? 'thread'} yields to a ready thread)`, isDefault };
  }
  if (id < timerChoiceBase(n)) {
    const ev = m.events[id - 2 * n]!;
    return { id, kind: 'event', cpu: ev.cpu, label: `CPU ${ev.cpu}: ${ev.name} arrives`, isDefault };
  }
  if (id < weakChoiceBase(n)) {
    const t = m.timers[id - timerChoiceBase(n)]!;
    return { id, kind: 'timer', cpu: t.cpu, label: `CPU ${t.cpu}: ${t.name} expires`, isDefault };
  }
  return describeWeak(run, id, isDefault);
}

/** A weak-memory choice in words: "CPU 0: store s.data buffered", "flush CPU 0's store of s.data", "CPU 1 reads an older s.data". */
function describeWeak(run: ControlledRun, id: number, isDefault: boolean): ManualChoice {
  const m = run.m;
  const w = decodeWeakChoice(id, m.cpus.length);
  if (w === null) throw new Error(`choice ${id} is not a choice of this engine`);
  if (w.kind === 'flush') {
    const b = bufferedStoreOf(m.weak, w.cpu, w.entry);
    const what = b !== undefined ? `store of ${m.nameOf(b.addr)} (= ${b.value}, stored at step ${b.storedAt + 1})` : `buffered store ${w.entry}`;
    return { id, kind: 'flush', cpu: w.cpu, label: `flush CPU ${w.cpu}'s ${what}: the other CPUs see it`, isDefault };
  }
  const top = m.cpus[w.cpu]!.top;
  const addr = top && top.opAddr > 0 ? m.nameOf(top.opAddr) : 'memory';
  const who = top ? ` — ${top.kind} '${top.name}'${top.apiStack.length > 0 ? ` in ${top.apiStack[top.apiStack.length - 1]}` : ''}` : '';
  if (w.kind === 'buffered') return { id, kind: 'buffered', cpu: w.cpu, label: `CPU ${w.cpu}: store ${addr} buffered (the other CPUs do not see it yet)${who}`, isDefault };
  const back = w.k === 1 ? 'the value before the newest' : `${w.k} values before the newest`;
  return { id, kind: 'stale', cpu: w.cpu, label: `CPU ${w.cpu} reads an older ${addr} (${back})${who}`, isDefault };
}

/**
 * The state of a manual run: `picks` replayed, waiting at the first decision
 * point at or after step `at` (Infinity: run to the end).
 */
export function manualState(rig: Rig, scenario: Scenario, picks: readonly number[], at: number): ManualState {
  checkPicks(picks);
  const run = new ControlledRun(rig, scenario);
  const s = new PickThenPause(picks, at);
  s.newExecution();
  const x = run.execute(s, { trace: true });
  const paused = s.paused;
  const choices = paused ? paused.choices.map((id) => describeManualChoice(run, id, id === paused.defaultId)) : [];
  // The run completed with defaults from the pause on: what a link to this point replays.
  const done = new ControlledRun(rig, scenario);
  const rest = new PickThenPause(picks, Number.POSITIVE_INFINITY);
  rest.newExecution();
  const y = done.execute(rest);
  const until = paused ? paused.step : y.steps + 1;
  const schedule = done.scheduleOf(y, { strategy: 'manual' }, prefixBefore(y.deviations, until).length / 2);
  const trace = x.trace ?? [];
  if (paused) {
    // The pause ended the traced run before its step was taken.
    return { picks: [...picks], step: paused.step, choices, trace, schedule, outcome: y.outcome, ...(y.failure ? { failure: y.failure } : {}), ended: false };
  }
  return { picks: [...picks], choices: [], trace, schedule, outcome: y.outcome, ...(y.failure ? { failure: y.failure } : {}), ended: true };
}

/** The manual run after taking choice `id` at the point `state` waits at. */
export function manualPick(rig: Rig, scenario: Scenario, state: Pick<ManualState, 'picks' | 'step'>, id: number): ManualState {
  if (state.step === undefined) throw new Error('the run has ended: there is nothing left to pick');
  const picks: number[] = [];
  for (let i = 0; i + 1 < state.picks.length && state.picks[i]! < state.step; i += 2) picks.push(state.picks[i]!, state.picks[i + 1]!);
  picks.push(state.step, id);
  return manualState(rig, scenario, picks, state.step + 1);
}

/** A manual run that starts from step `step` of a recorded schedule (0: from the start). */
export function manualFrom(rig: Rig, scenario: Scenario, schedule: string | undefined, step: number): ManualState {
  if (schedule === undefined || step <= 0) return manualState(rig, scenario, [], 0);
  const rec = decodeSchedule(schedule);
  checkScheduleFits(rec, rig, scenario);
  const picks = Array.from(prefixBefore(deviationsFromChoices(rec.choices, logicalCpuCount(rig)), step));
  return manualState(rig, scenario, picks, step);
}

function checkPicks(picks: readonly number[]): void {
  if (picks.length % 2 !== 0) throw new Error('picks are (step, choice) pairs');
  for (let i = 0; i < picks.length; i++) {
    const v = picks[i]!;
    if (!Number.isInteger(v) || v < 0) throw new Error(`pick ${Math.floor(i / 2)} is not a step and a choice`);
    if (i % 2 === 0 && i > 0 && v <= picks[i - 2]!) throw new Error('picks must be in step order, one per step');
  }
}
