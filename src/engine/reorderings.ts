/**
 * Which reorderings a failing run needed, in sentences (Failure.reorderings): read from the trace
 * of the failure's schedule, replayed, when the schedule has weak-memory choices. Steps are
 * counted from 1, as a failure's "at step N" (trace step #12 of `racebox replay --trace` is
 * "step 13").
 *
 * Three shapes, each named once:
 * - a read that returned an older value than the newest one (ARM64): what it did not see;
 * - a read of a word another CPU had stored to, while that store was still in the other CPU's
 *   store buffer (store buffering, x64 and ARM64);
 * - a CPU's store that became visible before an earlier store of the same CPU (ARM64).
 */
import type { Rig } from '../machine/rig.ts';
import { logicalCpuCount } from '../machine/rig.ts';
import type { Scenario } from '../scenario/define.ts';
import { ControlledRun } from './controlled.ts';
import type { Failure } from './outcome.ts';
import { decodeSchedule, deviationsFromChoices } from './schedule.ts';
import { ReplayStrategy } from './strategies/replay.ts';
import type { TraceStep } from './trace.ts';

/** Sentences a failure carries at most (a spin loop could otherwise repeat one per iteration). */
export const MAX_REORDERINGS = 8;

const WEAK_KINDS = new Set(['store-flush', 'store-buffered', 'stale-read']);

/** True when a schedule string has a weak-memory choice (kind 4, 5 or 6). */
export function hasWeakChoices(schedule: string): boolean {
  return decodeSchedule(schedule).choices.some((c) => WEAK_KINDS.has(c.kind));
}

/** "CPU 0's WriteNoFence of 1" — the routine that made the store, when the trace knows it. */
function storeWords(byStep: Map<number, TraceStep>, step: number, cpu: number, value: number): string {
  const t = byStep.get(step);
  const routine = t && t.routine !== '' && t.routine !== t.context ? t.routine : 'store';
  return `CPU ${cpu}'s ${routine} of ${value}`;
}

const isRead = (t: TraceStep): boolean => t.what === 'step' && (t.op === 'read' || t.op === 'spin' || t.op === 'rmw') && t.read !== undefined;

/** The reorderings a traced run shows, in the order they happened (at most MAX_REORDERINGS). */
export function reorderingsOf(trace: readonly TraceStep[]): string[] {
  const out: { at: number; text: string }[] = [];
  const byStep = new Map<number, TraceStep>();
  for (const t of trace) if (t.what === 'step') byStep.set(t.step, t);
  const buffered = trace.filter((t) => t.buffered === true && t.word !== undefined);

  for (const t of trace) {
    if (t.stale === undefined) continue;
    const s = t.stale;
    out.push({ at: t.step, text: `CPU ${t.cpu} read ${t.address ?? `word ${t.word}`} = ${t.read} at step ${t.step + 1}, but ${storeWords(byStep, s.newestStep, s.newestCpu, s.newest)} (step ${s.newestStep + 1}) was not yet visible to it` });
  }

  // Store buffering: the first read that missed each buffered store (later ones say the same).
  for (const b of buffered) {
    const visible = b.visibleAt ?? Number.POSITIVE_INFINITY;
    const r = trace.find((t) => isRead(t) && t.cpu !== b.cpu && t.word === b.word && t.step > b.step && t.step < visible && t.read !== b.wrote && t.stale === undefined);
    if (r === undefined) continue;
    const until = b.visibleAt !== undefined ? ` until step ${b.visibleAt + 1}` : '';
    out.push({ at: r.step, text: `CPU ${r.cpu} read ${r.address ?? `word ${r.word}`} = ${r.read} at step ${r.step + 1}, but ${storeWords(byStep, b.step, b.cpu, b.wrote ?? 0)} (step ${b.step + 1}) stayed in CPU ${b.cpu}'s store buffer${until}` });
  }

  // Stores of one CPU becoming visible out of order: a later store visible before a buffered earlier one.
  const writes = trace.filter((t) => t.what === 'step' && t.op === 'write' && t.word !== undefined && t.fault === undefined);
  for (const early of buffered) {
    const earlyVisible = early.visibleAt ?? Number.POSITIVE_INFINITY;
    const late = writes.find((w) => w.cpu === early.cpu && w.step > early.step && w.word !== early.word && (w.buffered ? (w.visibleAt ?? Number.POSITIVE_INFINITY) : w.step) < earlyVisible);
    if (late === undefined) continue;
    const lateVisible = late.buffered ? late.visibleAt! : late.step;
    const earlyWhen = early.visibleAt !== undefined ? `, visible at step ${early.visibleAt + 1}` : '';
    out.push({ at: lateVisible, text: `CPU ${late.cpu}'s store of ${late.address ?? `word ${late.word}`} (step ${late.step + 1}) became visible at step ${lateVisible + 1}, before its earlier store of ${early.address ?? `word ${early.word}`} (step ${early.step + 1}${earlyWhen})` });
  }

  out.sort((a, b) => a.at - b.at);
  return out.slice(0, MAX_REORDERINGS).map((r) => r.text);
}

/**
 * The failure with `reorderings` filled in, when its schedule has weak-memory choices and a
 * traced replay shows some; else the failure as it is. `makeRun` makes the replaying run (tests
 * give it a memory model of their own).
 */
export function explainReorderings<F extends Pick<Failure, 'schedule' | 'reorderings' | 'kind'>>(
  rig: Rig,
  scenario: Scenario,
  failure: F,
  makeRun: () => ControlledRun = () => new ControlledRun(rig, scenario),
): F {
  if (!failure.schedule || failure.kind === 'error') return failure;
  let trace: TraceStep[] | undefined;
  try {
    if (!hasWeakChoices(failure.schedule)) return failure;
    const rec = decodeSchedule(failure.schedule);
    const strategy = new ReplayStrategy(deviationsFromChoices(rec.choices, logicalCpuCount(rig)), rec.steps);
    strategy.newExecution(0);
    const x = makeRun().execute(strategy, { trace: true });
    if (x.outcome !== rec.outcome || x.steps !== rec.steps) return failure;
    trace = x.trace;
  } catch {
    // An explanation is an addition: a schedule that does not replay here is shown without one.
    return failure;
  }
  const sentences = reorderingsOf(trace ?? []);
  return sentences.length === 0 ? failure : { ...failure, reorderings: sentences };
}
