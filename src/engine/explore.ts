/**
 * Exploration: many controlled executions of one scenario on one rig, until
 * the first failure or the budget. Also replay of a recorded schedule.
 */
import { rigFingerprint, type Rig } from '../machine/rig.ts';
import type { Scenario } from '../scenario/define.ts';
import { ControlledRun, type Execution } from './controlled.ts';
import type { RunSummary } from './outcome.ts';
import { decodeSchedule, ScheduleError, type ScheduleRecord } from './schedule.ts';
import { DfsStrategy } from './strategies/dfs.ts';
import { PctStrategy } from './strategies/pct.ts';
import { defaultPortfolio, PortfolioStrategy } from './strategies/portfolio.ts';
import { PosStrategy } from './strategies/pos.ts';
import { RandomStrategy } from './strategies/random.ts';
import { ReplayStrategy, ScheduleDivergence } from './strategies/replay.ts';
import { defaultChoice, type PendingOps, type Strategy } from './strategy.ts';

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
}

/** Counts the decision points of one run in which every choice is the default one. */
class CountingDefault implements Strategy {
  readonly name = 'calibrate';
  decisions = 0;
  newExecution(): boolean {
    this.decisions = 0;
    return true;
  }
  next(choices: Int32Array, count: number, current: number): number {
    this.decisions++;
    return defaultChoice(choices, count, current);
  }
}

/**
 * PCT's k for a scenario on a rig: twice the decision points of the run that
 * always takes the default choice (a deterministic measure, the same in every
 * worker). Runs with more preemptions are longer, hence the factor.
 */
export function calibratePct(run: ControlledRun): number {
  const c = new CountingDefault();
  c.newExecution();
  run.execute(c);
  return Math.max(8, 2 * c.decisions);
}

export function makeStrategy(name: ExploreStrategy, seed: number, depth: number, bound: number, run?: ControlledRun): Strategy {
  switch (name) {
    case 'random':
      return new RandomStrategy(seed);
    case 'pct':
      return new PctStrategy(seed, depth, run ? calibratePct(run) : 32);
    case 'pos':
      return new PosStrategy(seed);
    case 'portfolio':
      return defaultPortfolio(seed, run ? calibratePct(run) : 32);
    case 'dfs':
      return new DfsStrategy(bound);
  }
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

export function explore(rig: Rig, scenario: Scenario, o: ExploreOptions = {}): RunSummary {
  const strategyName = o.strategy ?? DEFAULT_STRATEGY;
  const seed = o.seed ?? 1;
  const budget = o.schedules ?? 1000;
  const first = o.first ?? 0;
  const stride = o.stride ?? 1;
  const run = new ControlledRun(rig, scenario);
  // PCT calibration runs the scenario once: a watcher must see that beat too.
  if (o.heartbeat) Atomics.add(o.heartbeat, 0, 1);
  const strategy = makeStrategy(strategyName, seed, o.depth ?? DEFAULT_DEPTH, o.preemptionBound ?? DEFAULT_PREEMPTION_BOUND, run);
  strategy.attach?.(pendingOps(run));
  const t0 = now();
  let steps = 0;
  let schedulesRun = 0;
  let exhausted = false;
  const every = o.progressEvery ?? 1000;
  const summary = (outcome: RunSummary['outcome']): RunSummary => ({
    scenario: scenario.id, rig: rig.id, strategy: strategyName, seed, schedulesRun, steps, elapsedMs: now() - t0, outcome,
  });
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
      const foundBy = failureFoundBy(strategy, i);
      return { ...summary(x.outcome), failure: { ...x.failure!, schedule: run.scheduleOf(x), ...(foundBy !== undefined ? { foundBy } : {}) }, failingSchedule: i };
    }
    if (o.onProgress && schedulesRun % every === 0) o.onProgress({ schedulesRun, steps, elapsedMs: now() - t0 });
  }
  return { ...summary('pass'), ...(exhausted ? { exhausted: true } : {}) };
}

/** Checks a decoded schedule belongs to this scenario version and rig; throws ScheduleError saying why not. */
export function checkScheduleFits(rec: ScheduleRecord, rig: Rig, scenario: Scenario): void {
  if (rec.scenarioId !== scenario.id) {
    throw new ScheduleError(`schedule was recorded for scenario '${rec.scenarioId}', not '${scenario.id}'`);
  }
  if (rec.scenarioVersion !== scenario.version) {
    throw new ScheduleError(`schedule was recorded with version ${rec.scenarioVersion} of '${scenario.id}'; this is version ${scenario.version}`);
  }
  if (rec.rigFingerprint !== rigFingerprint(rig)) {
    throw new ScheduleError(`schedule was recorded on rig '${rec.rigId}', which differs from rig '${rig.id}' (cores, HAL, build, quantum, watchdog or memory)`);
  }
}

export interface ReplayResult {
  summary: RunSummary;
  execution: Execution;
}

/** Replays a schedule string exactly; a mismatch ends as outcome 'error' saying where it diverged. */
export function replay(rig: Rig, scenario: Scenario, schedule: string, options: { trace?: boolean } = {}): ReplayResult {
  const rec = decodeSchedule(schedule);
  checkScheduleFits(rec, rig, scenario);
  const run = new ControlledRun(rig, scenario);
  const strategy = new ReplayStrategy(rec.deviations, rec.steps);
  strategy.newExecution(0);
  const t0 = now();
  let x = run.execute(strategy, options);
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
    ...(x.failure ? { failure: { ...x.failure, schedule } } : {}),
  };
  return { summary, execution: x };
}
