/**
 * The smallest failing schedule. Before a failure is shown, its schedule is
 * shrunk: fewest preemptions first (CHESS: almost every bug needs at most two),
 * then fewest steps, by delta debugging over the schedule's choices (the
 * steps where the engine did something other than its default). A candidate
 * drops some choices and replays leniently (a dropped choice, or one no longer
 * possible, becomes the default); it is kept only when it ends in the same
 * failure — same kind, bug check and routine — with no more preemptions and
 * steps than the best so far. The result is the recording of that candidate's
 * real execution, so it replays exactly; it is replayed once more to make sure.
 *
 * Bounds (SHRINK_DEFAULTS): at most `maxReplays` replays and `maxMs`
 * milliseconds. Shrinking that does not finish within either keeps the
 * original schedule: so a shrunk schedule depends only on the rig, the
 * scenario and the original schedule (the same run gives the same one), and
 * a slow host shows the original rather than a half-shrunk one.
 *
 * A preemption is a choice made while the CPU that ran the previous step could
 * have gone on (a switch away from it, a quantum end, an interrupt or DPC
 * arriving), and every weak-memory choice (a store kept buffered, a read of an
 * older value, a store-buffer flush): a reordering costs like a preemption.
 */
import { logicalCpuCount, type Rig } from '../machine/rig.ts';
import type { Scenario } from '../scenario/define.ts';
import { ControlledRun, type Execution } from './controlled.ts';
import { checkScheduleFits, replay } from './explore.ts';
import type { Failure, RunSummary } from './outcome.ts';
import { decodeSchedule, deviationsFromChoices, encodeSchedule, type ScheduleRecord } from './schedule.ts';
import { contains, defaultChoice, weakChoiceBase, type Strategy } from './strategy.ts';
import { explainReorderings } from './reorderings.ts';

export interface ShrinkBudget {
  /** Replays (candidates tried) before shrinking gives up and keeps the original. */
  maxReplays: number;
  /** Milliseconds before shrinking gives up and keeps the original. */
  maxMs: number;
}

export const SHRINK_DEFAULTS: Readonly<ShrinkBudget> = { maxReplays: 2000, maxMs: 3000 };

export interface ShrinkResult {
  /** The schedule to show: shrunk, or the original when shrinking did not finish or found nothing smaller. */
  schedule: string;
  preemptions: number;
  steps: number;
  originalPreemptions: number;
  originalSteps: number;
  /** Replays spent. */
  replays: number;
  /** Why the original was kept, when it was and the reason is a bound or a replay problem. */
  keptOriginal?: string;
  /** The failure as the shown schedule's replay reports it. */
  failure: Omit<Failure, 'schedule'>;
}

/**
 * Replays (step, choice) pairs where it can: a recorded choice that is not
 * possible at its step, or a step that is no longer a decision point, falls
 * back to the default. Counts the preemptions of the run it makes.
 */
export class LenientReplay implements Strategy {
  readonly name = 'shrink';
  preemptions = 0;
  private pos = 0;
  private readonly weakBase: number;
  /** `cpuCount`: the rig's logical CPUs, which tell weak-memory choices from the others. */
  constructor(
    private readonly deviations: Int32Array,
    cpuCount: number,
  ) {
    this.weakBase = weakChoiceBase(cpuCount);
  }
  newExecution(): boolean {
    this.pos = 0;
    this.preemptions = 0;
    return true;
  }
  next(choices: Int32Array, count: number, current: number, step: number): number {
    const d = this.deviations;
    while (this.pos < d.length && d[this.pos]! < step) this.pos += 2;
    const def = defaultChoice(choices, count, current);
    let c = def;
    if (this.pos < d.length && d[this.pos] === step) {
      const want = d[this.pos + 1]!;
      this.pos += 2;
      if (contains(choices, count, want)) c = want;
    }
    // (The default is the running choice whenever it is enabled.)
    if (c !== def && (c >= this.weakBase || contains(choices, count, current))) this.preemptions++;
    return c;
  }
}

/** What makes two failures "the same" for shrinking. */
export function failureSignature(f: Pick<Failure, 'kind' | 'bugcheck' | 'routine' | 'invariant'>): string {
  return `${f.kind}|${f.bugcheck?.code ?? ''}|${f.invariant ?? ''}|${f.routine}`;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

interface Candidate {
  deviations: Int32Array;
  preemptions: number;
  steps: number;
  execution: Execution;
}

class BudgetSpent extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

/** Preemptions first, then steps, then how many choices the schedule records. */
function better(a: Candidate, b: Candidate): boolean {
  if (a.preemptions !== b.preemptions) return a.preemptions < b.preemptions;
  if (a.steps !== b.steps) return a.steps < b.steps;
  return a.deviations.length < b.deviations.length;
}

/** Drops the pairs [from, to) (pair indices) of a (step, choice) list. */
function without(d: Int32Array, from: number, to: number): Int32Array {
  const out = new Int32Array(d.length - 2 * (to - from));
  out.set(d.subarray(0, 2 * from));
  out.set(d.subarray(2 * to), 2 * from);
  return out;
}

/** The preemptions of a schedule string's run (one replay), or undefined when it does not replay. */
export function countPreemptions(rig: Rig, scenario: Scenario, schedule: string): number | undefined {
  const rec = decodeSchedule(schedule);
  checkScheduleFits(rec, rig, scenario);
  const run = new ControlledRun(rig, scenario);
  const s = new LenientReplay(deviationsFromChoices(rec.choices, logicalCpuCount(rig)), logicalCpuCount(rig));
  s.newExecution();
  const x = run.execute(s);
  return x.steps === rec.steps && x.outcome === rec.outcome ? s.preemptions : undefined;
}

/**
 * Shrinks the failing schedule `schedule` of `scenario` on `rig`. `beat`, when
 * given, is bumped at every replay (a pool's watchdog then sees a live worker).
 * Choices of a hand-made prefix are kept as they are.
 */
export function shrinkSchedule(
  rig: Rig,
  scenario: Scenario,
  schedule: string,
  budget: Partial<ShrinkBudget> = {},
  beat?: Int32Array,
): ShrinkResult {
  const b: ShrinkBudget = { ...SHRINK_DEFAULTS, ...budget };
  const rec = decodeSchedule(schedule);
  checkScheduleFits(rec, rig, scenario);
  const run = new ControlledRun(rig, scenario);
  const cpus = logicalCpuCount(rig);
  const t0 = now();
  let replays = 0;
  const attempt = (deviations: Int32Array): Candidate => {
    if (replays >= b.maxReplays) throw new BudgetSpent(`shrinking took more than ${b.maxReplays} replays`);
    if (now() - t0 > b.maxMs) throw new BudgetSpent(`shrinking took more than ${b.maxMs} ms`);
    replays++;
    if (beat) Atomics.add(beat, 0, 1);
    const s = new LenientReplay(deviations, cpus);
    s.newExecution();
    const x = run.execute(s);
    return { deviations: x.deviations.slice(), preemptions: s.preemptions, steps: x.steps, execution: { ...x, deviations: x.deviations.slice() } };
  };
  const originalDeviations = deviationsFromChoices(rec.choices, cpus);
  const original = attempt(originalDeviations);
  const keep = (why: string, preemptions = original.preemptions): ShrinkResult => ({
    schedule,
    preemptions,
    steps: rec.steps,
    originalPreemptions: preemptions,
    originalSteps: rec.steps,
    replays,
    keptOriginal: why,
    failure: original.execution.failure ?? { kind: 'error', message: why, cpu: -1, routine: '', step: 0, cpus: [] },
  });
  if (original.execution.outcome !== rec.outcome || original.steps !== rec.steps || !original.execution.failure || rec.outcome === 'error') {
    return keep('the schedule does not replay to a failure');
  }
  const signature = failureSignature(original.execution.failure);
  // The hand-made prefix's choices stay: shrinking works on the rest.
  const fixed = Math.min(rec.handMadePrefix ?? 0, original.deviations.length / 2);
  const prefix = original.deviations.subarray(0, 2 * fixed);
  const join = (rest: Int32Array): Int32Array => {
    const out = new Int32Array(prefix.length + rest.length);
    out.set(prefix);
    out.set(rest, prefix.length);
    return out;
  };
  let best = original;
  /** Tries `rest` after the prefix; keeps it if it fails the same way, no worse. */
  const tryRest = (rest: Int32Array): boolean => {
    const c = attempt(join(rest));
    const f = c.execution.failure;
    if (!f || c.execution.outcome !== rec.outcome || failureSignature(f) !== signature) return false;
    // The hand-made prefix must still be what the run did.
    for (let i = 0; i < prefix.length; i++) if (c.deviations[i] !== prefix[i]) return false;
    if (!better(c, best)) return false;
    best = c;
    return true;
  };
  const rest = (): Int32Array => best.deviations.subarray(prefix.length);
  try {
    // All defaults after the prefix: often the bug needs no preemption at all.
    if (rest().length > 0) tryRest(new Int32Array(0));
    // ddmin over the choices, removing complements of ever finer chunks.
    let n = 2;
    while (rest().length / 2 >= 1) {
      const d = rest();
      const pairs = d.length / 2;
      const size = Math.ceil(pairs / Math.min(n, pairs));
      let reduced = false;
      for (let from = 0; from < pairs; from += size) {
        if (tryRest(without(d, from, Math.min(pairs, from + size)))) {
          reduced = true;
          break;
        }
      }
      if (reduced) {
        n = Math.max(2, n - 1);
        continue;
      }
      if (size === 1) break;
      n = Math.min(pairs, 2 * n);
    }
    // Fewer steps: move each choice as early as it can go, trying the farthest first.
    for (let i = 0; i < rest().length / 2; i++) {
      const d = rest();
      const step = d[2 * i]!;
      const floor = i > 0 ? d[2 * i - 2]! + 1 : fixed > 0 ? prefix[prefix.length - 2]! + 1 : 0;
      for (let gap = step - floor; gap >= 1; gap = Math.floor(gap / 2)) {
        const e = d.slice();
        e[2 * i] = step - gap;
        if (tryRest(e)) break;
      }
    }
  } catch (e) {
    if (e instanceof BudgetSpent) return keep(e.why);
    throw e;
  }
  if (best === original) {
    const { keptOriginal: _k, ...same } = keep('');
    return same;
  }
  const shrunk = run.scheduleOf(best.execution, rec.origin);
  const withPrefix = fixed > 0 ? reencodeWithPrefix(shrunk, fixed) : shrunk;
  // The recording of a real execution replays exactly; checked once more, as the shown schedule must.
  const again = replay(rig, scenario, withPrefix);
  replays++;
  const f = again.summary.failure;
  if (again.summary.outcome !== rec.outcome || !f || failureSignature(f) !== signature) return keep('the shrunk schedule did not replay to the same failure');
  const { schedule: _s, ...failure } = f;
  return {
    schedule: withPrefix,
    preemptions: best.preemptions,
    steps: best.steps,
    originalPreemptions: original.preemptions,
    originalSteps: rec.steps,
    replays,
    failure,
  };
}

/** A schedule string with field 11 (hand-made prefix) set. */
export function reencodeWithPrefix(schedule: string, handMadePrefix: number): string {
  const rec: ScheduleRecord = decodeSchedule(schedule);
  return encodeSchedule({ ...rec, handMadePrefix });
}

/**
 * A run summary whose failure shows the shrunk schedule: failure.preemptions,
 * failure.originalSteps (and originalPreemptions, originalSchedule when it
 * changed). A failure without a schedule (a stall, an error) is returned as it is.
 */
export function shrinkSummary<T extends RunSummary>(rig: Rig, scenario: Scenario, summary: T, budget?: Partial<ShrinkBudget>, beat?: Int32Array): T {
  const f = summary.failure;
  if (summary.outcome === 'pass' || summary.outcome === 'error' || !f || !f.schedule) return summary;
  let r: ShrinkResult;
  try {
    r = shrinkSchedule(rig, scenario, f.schedule, budget, beat);
  } catch {
    // A schedule that cannot be read back is shown as found: shrinking is an improvement, never a new failure.
    return summary;
  }
  const shrunk = r.schedule !== f.schedule;
  // The shown schedule's reorderings, not the found one's.
  const { reorderings: _r, ...found } = f;
  const failure: Failure = {
    ...(shrunk ? explainReorderings(rig, scenario, { ...found, ...r.failure, schedule: r.schedule, originalSchedule: f.schedule }) : f),
    ...(f.foundBy !== undefined ? { foundBy: f.foundBy } : {}),
    preemptions: r.preemptions,
    originalSteps: r.originalSteps,
    originalPreemptions: r.originalPreemptions,
  };
  return { ...summary, failure };
}
