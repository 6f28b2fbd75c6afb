/**
 * Exploration: many controlled executions of one scenario on one rig, until
 * the first failure or the budget. Also replay of a recorded schedule.
 */
import type { Machine } from '../machine/machine.ts';
import { presetRig } from '../machine/presets.ts';
import { logicalCpuCount, rigDifferences, rigFingerprint, type Rig } from '../machine/rig.ts';
import { clip } from '../machine/text.ts';
import type { Scenario } from '../scenario/define.ts';
import { ControlledRun, type Execution } from './controlled.ts';
import { IntrinsicsGuard, pollutionMessage } from './intrinsics.ts';
import type { Failure, RunSummary } from './outcome.ts';
import { decodeSchedule, deviationsFromChoices, ScheduleError, type ScheduleOrigin, type ScheduleRecord } from './schedule.ts';
import { DfsStrategy } from './strategies/dfs.ts';
import { PctStrategy } from './strategies/pct.ts';
import { defaultPortfolio, PortfolioStrategy } from './strategies/portfolio.ts';
import { PosStrategy } from './strategies/pos.ts';
import { RandomStrategy } from './strategies/random.ts';
import { ReplayStrategy, ScheduleDivergence } from './strategies/replay.ts';
import { PrefixStrategy, prefixBefore } from './strategies/prefix.ts';
import { explainReorderings, hasWeakChoices, reorderingsOf } from './reorderings.ts';
import { defaultChoice, weakChoiceBase, type PendingOps, type Strategy } from './strategy.ts';

export type ExploreStrategy = 'portfolio' | 'pct' | 'random' | 'pos' | 'dfs';
export const STRATEGIES: readonly ExploreStrategy[] = ['portfolio', 'pct', 'random', 'pos', 'dfs'];
/** With no strategy named, a portfolio of pct d=1..5, random and POS (strategies/portfolio.ts). */
export const DEFAULT_STRATEGY: ExploreStrategy = 'portfolio';
export const DEFAULT_DEPTH = 3;
export const DEFAULT_PREEMPTION_BOUND = 2;

export interface ExploreOptions {
  strategy?: ExploreStrategy;
  seed?: number;
  schedules?: number;
  /** PCT depth d. */
  depth?: number;
  /** DFS preemption bound. */
  preemptionBound?: number;
  /** Schedule indices to run: first, first+stride, ... (a pool worker's share). */
  first?: number;
  stride?: number;
  /** Called every `progressEvery` schedules. */
  onProgress?: (p: { schedulesRun: number; steps: number; elapsedMs: number }) => void;
  progressEvery?: number;
  /** Polled between schedules; true stops the exploration. */
  shouldStop?: () => boolean;
  /** Word 0 is bumped at every schedule start, so a watcher on another thread can tell a routine that never yields. */
  heartbeat?: Int32Array;
  /** Word 0 is bumped every 256 steps (ControlledRun.stepBeat): a long schedule is not a stalled one. */
  stepBeat?: Int32Array;
  /**
   * Search from here: every schedule keeps the choices of `schedule` before `step` and the
   * strategy decides from there; a failure's schedule says how many of its choices came from
   * that prefix (rb2 header field 11, hand-made prefix).
   */
  prefix?: { schedule: string; step: number };
  /** The fence search's change set (Machine.orderHook, src/engine/fences.ts): stronger orders for some ordering-API accesses. */
  orderHook?: Machine['orderHook'];
}

/**
 * Counts the decision points of one run in which every choice is the default one, and among
 * them the weak accesses: where a weak-memory choice is enabled (PCT's k_w).
 */
class CountingDefault implements Strategy {
  readonly name = 'calibrate';
  decisions = 0;
  weakDecisions = 0;
  constructor(private readonly weakBase: number) {}
  newExecution(): boolean {
    this.decisions = 0;
    this.weakDecisions = 0;
    return true;
  }
  next(choices: Int32Array, count: number, current: number): number {
    this.decisions++;
    if (choices[count - 1]! >= this.weakBase) this.weakDecisions++;
    return defaultChoice(choices, count, current);
  }
}

/**
 * PCT's k for a scenario on a rig: twice the decision points of the run that
 * always takes the default choice (a deterministic measure, the same in every
 * worker). Runs with more preemptions are longer, hence the factor.
 */
export function calibratePct(run: ControlledRun): number {
  return calibrate(run).k;
}

/** PCT's k and k_w (its weak accesses, over which PCTWM's reordering points are drawn) from one default run. */
export function calibrate(run: ControlledRun): { k: number; weakK: number } {
  const c = new CountingDefault(weakChoiceBase(run.m.cpus.length));
  c.newExecution();
  run.execute(c);
  return { k: Math.max(8, 2 * c.decisions), weakK: Math.max(4, 2 * c.weakDecisions) };
}

export function makeStrategy(name: ExploreStrategy, seed: number, depth: number, bound: number, run?: ControlledRun): Strategy {
  const n = run?.m.cpus.length;
  switch (name) {
    case 'random':
      return new RandomStrategy(seed, n);
    case 'pct': {
      const c = run ? calibrate(run) : { k: 32, weakK: 32 };
      return new PctStrategy(seed, depth, c.k, c.weakK, n);
    }
    case 'pos':
      return new PosStrategy(seed);
    case 'portfolio': {
      const c = run ? calibrate(run) : { k: 32, weakK: 32 };
      return defaultPortfolio(seed, c.k, c.weakK);
    }
    case 'dfs':
      return new DfsStrategy(bound, n);
  }
}

/** The strategy as a schedule string names it: pct with its depth, dfs with its preemption bound. */
function strategyDescription(name: ExploreStrategy, o: ExploreOptions): string {
  if (name === 'pct') return `pct:${o.depth ?? DEFAULT_DEPTH}`;
  if (name === 'dfs') return `dfs:${o.preemptionBound ?? DEFAULT_PREEMPTION_BOUND}`;
  return name;
}

/** The read-only view of a run's pending operations that conflict-aware strategies (POS) look at. */
export function pendingOps(run: ControlledRun): PendingOps {
  const cpus = run.m.cpus;
  return {
    cpuCount: () => cpus.length,
    op: (cpu) => {
      const s = cpus[cpu]!.stack;
      return s.length === 0 ? -1 : s[s.length - 1]!.op;
    },
    addr: (cpu) => {
      const s = cpus[cpu]!.stack;
      return s.length === 0 ? 0 : s[s.length - 1]!.opAddr;
    },
  };
}

/**
 * Which member of the strategy ran schedule `index` — the portfolio member
 * that found a failure there, e.g. "pct d=4" — or undefined for a single
 * strategy. HOOK (issue 18): a schedule string format that carries the member
 * (rb2) takes it from here.
 */
export function failureFoundBy(strategy: Strategy, index: number): string | undefined {
  return strategy instanceof PortfolioStrategy ? strategy.memberOf(index) : undefined;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Runs the exploration. A scenario that changed JavaScript built-ins on the way
 * (see IntrinsicsGuard) ends it as outcome 'error', whatever the schedules found.
 */
export function explore(rig: Rig, scenario: Scenario, o: ExploreOptions = {}): RunSummary {
  const guard = new IntrinsicsGuard();
  const t0 = now();
  let summary: RunSummary | undefined;
  let thrown: unknown;
  try {
    summary = exploreSchedules(rig, scenario, o);
  } catch (e) {
    thrown = e;
  }
  const changed = guard.changes();
  if (changed.length > 0) {
    guard.restore();
    return {
      scenario: scenario.id, rig: rig.id, strategy: o.strategy ?? DEFAULT_STRATEGY, seed: o.seed ?? 1,
      schedulesRun: summary?.schedulesRun ?? 1, steps: summary?.steps ?? 0, elapsedMs: now() - t0,
      ...asError(pollutionMessage(changed)),
      // The change happened in one of this share's schedules; which one is not known: its first stands for it.
      failingSchedule: o.first ?? 0,
    };
  }
  if (summary === undefined) throw thrown;
  return summary;
}

/** An outcome 'error' that no schedule string replays (it is not about an interleaving). */
export function asError(message: string, base?: Failure): { outcome: 'error'; failure: Failure } {
  return {
    outcome: 'error',
    failure: { kind: 'error', message, schedule: '', cpu: base?.cpu ?? -1, routine: base?.routine ?? '', step: base?.step ?? 0, cpus: base?.cpus ?? [] },
  };
}

function exploreSchedules(rig: Rig, scenario: Scenario, o: ExploreOptions): RunSummary {
  const strategyName = o.strategy ?? DEFAULT_STRATEGY;
  const seed = o.seed ?? 1;
  const budget = o.schedules ?? 1000;
  const first = o.first ?? 0;
  const stride = o.stride ?? 1;
  const run = new ControlledRun(rig, scenario);
  run.stepBeat = o.stepBeat;
  if (o.orderHook) run.m.orderHook = o.orderHook;
  // PCT calibration runs the scenario once: a watcher must see that beat too.
  if (o.heartbeat) Atomics.add(o.heartbeat, 0, 1);
  const inner = makeStrategy(strategyName, seed, o.depth ?? DEFAULT_DEPTH, o.preemptionBound ?? DEFAULT_PREEMPTION_BOUND, run);
  let strategy: Strategy = inner;
  let until = 0;
  if (o.prefix !== undefined) {
    const rec = decodeSchedule(o.prefix.schedule);
    checkScheduleFits(rec, rig, scenario);
    until = Math.max(0, Math.min(o.prefix.step, rec.steps));
    strategy = new PrefixStrategy(inner, prefixBefore(deviationsFromChoices(rec.choices, logicalCpuCount(rig)), until), until);
  }
  strategy.attach?.(pendingOps(run));
  const t0 = now();
  let steps = 0;
  let schedulesRun = 0;
  let exhausted = false;
  const every = o.progressEvery ?? 1000;
  const summary = (outcome: RunSummary['outcome']): RunSummary => ({
    scenario: scenario.id, rig: rig.id, strategy: strategyName, seed, schedulesRun, steps, elapsedMs: now() - t0, outcome,
  });
  const origin = (index: number, member?: string): ScheduleOrigin => ({ strategy: strategyDescription(strategyName, o), seed, index, ...(member !== undefined ? { member } : {}) });
  for (let i = first; i < budget; i += stride) {
    if (o.shouldStop?.()) break;
    if (o.heartbeat) Atomics.add(o.heartbeat, 0, 1);
    if (!strategy.newExecution(i)) {
      exhausted = true;
      break;
    }
    const x = run.execute(strategy);
    schedulesRun++;
    steps += x.steps;
    if (x.outcome !== 'pass') {
      const foundBy = failureFoundBy(inner, i);
      const handMade = o.prefix !== undefined ? prefixBefore(x.deviations, until).length / 2 : undefined;
      const failure: Failure = { ...x.failure!, schedule: run.scheduleOf(x, origin(i, foundBy), handMade), ...(foundBy !== undefined ? { foundBy } : {}) };
      return { ...summary(x.outcome), failure: explainReorderings(rig, scenario, failure), failingSchedule: i };
    }
    if (o.onProgress && schedulesRun % every === 0) o.onProgress({ schedulesRun, steps, elapsedMs: now() - t0 });
  }
  return { ...summary('pass'), ...(exhausted ? { exhausted: true } : {}) };
}

/**
 * Checks a decoded schedule belongs to this scenario version and rig; throws ScheduleError saying why not.
 * `recordedRig` is the rig the schedule was recorded on, when the caller knows it (a stored run):
 * the message then lists the settings that differ. Without it a preset of the recorded id and
 * fingerprint stands in for it.
 */
export function checkScheduleFits(rec: ScheduleRecord, rig: Rig, scenario: Scenario, recordedRig?: Rig): void {
  if (rec.scenarioId !== scenario.id) {
    throw new ScheduleError(`schedule was recorded for scenario '${clip(rec.scenarioId)}', not '${clip(scenario.id)}'`, 'scenario');
  }
  if (rec.scenarioVersion !== scenario.version) {
    throw new ScheduleError(`schedule was recorded with version ${rec.scenarioVersion} of '${clip(scenario.id)}'; this is version ${scenario.version}`, 'scenario version');
  }
  const fingerprint = rigFingerprint(rig);
  if (rec.rigFingerprint !== fingerprint) throw new ScheduleError(rigMismatch(rec, rig, fingerprint, recordedRig), 'rig');
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');

function rigMismatch(rec: ScheduleRecord, rig: Rig, fingerprint: number, recordedRig?: Rig): string {
  const preset = presetRig(rec.rigId);
  const known = recordedRig && rigFingerprint(recordedRig) === rec.rigFingerprint
    ? recordedRig
    : preset && rigFingerprint(preset) === rec.rigFingerprint ? preset : undefined;
  const here = rec.rigId === rig.id ? `this rig '${clip(rig.id)}'` : `rig '${clip(rig.id)}'`;
  const head = `schedule was recorded on rig '${clip(rec.rigId)}'`;
  if (known) {
    const diff = rigDifferences(known, rig);
    return `${head}; ${here} differs from it in what a replay depends on: ${diff.join(', ')}`;
  }
  return `${head} (fingerprint ${hex(rec.rigFingerprint)}); the settings of ${here} (fingerprint ${hex(fingerprint)}) differ from the ones it was recorded on ` +
    '(one or more of cores, threadsPerCore, hal, build, upHalOnAllCpus, quantum, watchdog, memoryWords)';
}

/** A replayed failure with its reorderings: from the replay's own trace when it has one. */
function withReorderings(rig: Rig, scenario: Scenario, f: Failure, x: Execution): Failure {
  if (f.kind === 'error') return f;
  if (x.trace === undefined) return explainReorderings(rig, scenario, f);
  const sentences = hasWeakChoices(f.schedule) ? reorderingsOf(x.trace) : [];
  return sentences.length === 0 ? f : { ...f, reorderings: sentences };
}

export interface ReplayResult {
  summary: RunSummary;
  execution: Execution;
}

/** Replays a schedule string exactly; a mismatch ends as outcome 'error' saying where it diverged. */
export function replay(rig: Rig, scenario: Scenario, schedule: string, options: { trace?: boolean; recordedRig?: Rig; stepBeat?: Int32Array } = {}): ReplayResult {
  const rec = decodeSchedule(schedule);
  checkScheduleFits(rec, rig, scenario, options.recordedRig);
  const guard = new IntrinsicsGuard();
  let result: ReplayResult | undefined;
  let thrown: unknown;
  try {
    result = replayChecked(rig, scenario, schedule, rec, options);
  } catch (e) {
    thrown = e;
  }
  const changed = guard.changes();
  if (changed.length > 0) {
    guard.restore();
    const summary: RunSummary = {
      scenario: scenario.id, rig: rig.id, strategy: 'replay', seed: 0, schedulesRun: 1, steps: result?.summary.steps ?? 0,
      elapsedMs: result?.summary.elapsedMs ?? 0, ...asError(pollutionMessage(changed), result?.summary.failure),
    };
    if (result) return { ...result, summary };
  }
  if (result === undefined) throw thrown;
  return result;
}

function replayChecked(rig: Rig, scenario: Scenario, schedule: string, rec: ScheduleRecord, options: { trace?: boolean; stepBeat?: Int32Array }): ReplayResult {
  const run = new ControlledRun(rig, scenario);
  run.stepBeat = options.stepBeat;
  const strategy = new ReplayStrategy(deviationsFromChoices(rec.choices, logicalCpuCount(rig)), rec.steps);
  strategy.newExecution(0);
  const t0 = now();
  let x = run.execute(strategy, { trace: options.trace === true });
  if (x.outcome !== 'error' || !x.failure?.message.startsWith('replay diverged')) {
    try {
      strategy.finish(x.steps);
      if (x.outcome !== rec.outcome) throw new ScheduleDivergence(`replay diverged: the recording ended as ${rec.outcome}, this run as ${x.outcome}`);
    } catch (e) {
      if (!(e instanceof ScheduleDivergence)) throw e;
      x = { ...x, outcome: 'error', failure: { ...(x.failure ?? { cpu: 0, routine: '', step: x.steps, cpus: run.snapshot() }), kind: 'error', message: e.message } };
    }
  }
  const summary: RunSummary = {
    scenario: scenario.id,
    rig: rig.id,
    strategy: 'replay',
    seed: 0,
    schedulesRun: 1,
    steps: x.steps,
    elapsedMs: now() - t0,
    outcome: x.outcome,
    ...(x.failure ? { failure: withReorderings(rig, scenario, { ...x.failure, schedule }, x) } : {}),
  };
  return { summary, execution: x };
}
