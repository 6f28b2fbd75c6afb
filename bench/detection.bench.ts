/**
 * The detection table (after SCTBench: Thomson, Donaldson and Betts,
 * "Concurrency Testing Using Controlled Schedulers: An Empirical Study",
 * TOPLAS 2016): for every buggy library scenario and every strategy, in how
 * many of 10 seeds the expected failure is found within the budget, and the
 * median schedules to the first failure; then every correct library scenario
 * under every strategy over the same budget, which must stay clean. Last, the
 * portfolio's schedules/s next to pct's on the correct scenarios (the same
 * schedules-per-second work, so the portfolio's dispatch is what differs).
 *
 * Budget: 100,000 schedules (RACEBOX_DETECTION_BUDGET overrides it); --quick
 * uses 1,000. RACEBOX_DETECTION_SCENARIOS limits the table to some families. DFS is deterministic, so it runs once per scenario and its one
 * result stands for every seed.
 */
import { explore, type ExploreOptions } from '../src/engine/explore.ts';
import type { RunSummary } from '../src/engine/outcome.ts';
import { setupStateOf } from '../src/engine/setup-state.ts';
import type { Rig } from '../src/machine/rig.ts';
import { presetRig } from '../src/machine/presets.ts';
import type { ExpectedOutcome, Scenario } from '../src/scenario/define.ts';
import { checkExpectation, describeExpected, describeFailure, expectedOutcome } from '../src/scenario/expect.ts';
import { listRigs, loadAllScenarios } from '../src/workers/node-load.ts';
import type { BenchModule, BenchRow } from './index.ts';
import { median } from './stats.ts';

export interface DetectionStrategy {
  label: string;
  options: ExploreOptions;
  /** Seeds give different runs (false for dfs). */
  seeded: boolean;
}

/** Every strategy of the table, in its column order. */
export const DETECTION_STRATEGIES: readonly DetectionStrategy[] = [
  ...[1, 2, 3, 4, 5].map((d) => ({ label: `pct d=${d}`, options: { strategy: 'pct', depth: d } as ExploreOptions, seeded: true })),
  { label: 'random', options: { strategy: 'random' }, seeded: true },
  { label: 'pos', options: { strategy: 'pos' }, seeded: true },
  { label: 'dfs b=1', options: { strategy: 'dfs', preemptionBound: 1 }, seeded: false },
  { label: 'dfs b=2', options: { strategy: 'dfs', preemptionBound: 2 }, seeded: false },
  { label: 'portfolio', options: { strategy: 'portfolio' }, seeded: true },
];

export const DETECTION_SEEDS = 10;

/** The rig a scenario is measured on: dual-opteron-240 where its expectation applies there, else the first rig with one. */
export function detectionRig(s: Scenario, rigs: readonly Rig[], want: 'buggy' | 'correct'): { rig: Rig; expected: ExpectedOutcome } | undefined {
  const fits = (r: Rig): ExpectedOutcome | undefined => {
    const e = expectedOutcome(s, r);
    if (e === undefined) return undefined;
    return (e === 'pass') === (want === 'correct') ? e : undefined;
  };
  const preferred = presetRig('dual-opteron-240')!;
  const e = fits(preferred);
  if (e !== undefined) return { rig: preferred, expected: e };
  for (const r of rigs) {
    const x = fits(r);
    if (x !== undefined) return { rig: r, expected: x };
  }
  return undefined;
}

/**
 * The rigs a scenario's false-failure rows run on: dual-opteron-240 (x64) and
 * arm64-quad, each where the scenario is expected to pass there. A scenario
 * correct on x64 but buggy on ARM64 (spinlock/ttas) is checked clean on x64 and
 * measured as buggy on ARM64; both models can report a failure that is not real.
 */
export function cleanRigs(s: Scenario): Rig[] {
  return ['dual-opteron-240', 'arm64-quad'].map((id) => presetRig(id)!).filter((r) => expectedOutcome(s, r) === 'pass');
}

/** A scenario is correct when it is expected to pass on every rig its expectations name. */
export function isCorrect(s: Scenario, rigs: readonly Rig[]): boolean {
  return rigs.every((r) => {
    const e = expectedOutcome(s, r);
    return e === undefined || e === 'pass';
  });
}

export interface DetectionCell {
  found: number;
  seeds: number;
  /** Median schedules to the first failure among the seeds that found it. */
  median?: number;
  /** A failure other than the expected one (counts as not found). */
  wrong?: string;
}

export function detect(rig: Rig, s: Scenario, expected: ExpectedOutcome, st: DetectionStrategy, budget: number, seeds = DETECTION_SEEDS): DetectionCell {
  const counts: number[] = [];
  let wrong: string | undefined;
  const runs = st.seeded ? seeds : 1;
  const setupState = setupStateOf(rig, s);
  for (let seed = 1; seed <= runs; seed++) {
    const r = explore(rig, s, { ...st.options, seed, schedules: budget });
    if (r.outcome === 'pass') continue;
    if (checkExpectation(expected, r, setupState) === null) counts.push(r.failingSchedule! + 1);
    else wrong ??= `seed ${seed}: ${describeFailure(r)}`;
  }
  const found = st.seeded ? counts.length : counts.length * seeds;
  return { found, seeds, ...(counts.length > 0 ? { median: median(counts) } : {}), ...(wrong !== undefined ? { wrong } : {}) };
}

const mod: BenchModule = {
  title: 'detection',
  async run(ctx) {
    const budget = ctx.quick ? 1000 : Number(process.env.RACEBOX_DETECTION_BUDGET ?? 100_000);
    const rigs = listRigs();
    // RACEBOX_DETECTION_SCENARIOS=device,workqueue: only those families (or ids), to re-measure a few rows.
    const only = process.env.RACEBOX_DETECTION_SCENARIOS?.split(',').filter((x) => x !== '');
    const scenarios = (await loadAllScenarios()).filter((s) => !only || only.some((o) => s.id === o || s.id.startsWith(`${o}/`)));
    // RACEBOX_DETECTION_PHASE=buggy|correct: one half only, to run the halves side by side on two cores.
    const phase = process.env.RACEBOX_DETECTION_PHASE;
    // RACEBOX_DETECTION_ARCH=arm64|x64: only the rows measured on that architecture (a model change re-measured).
    const arch = process.env.RACEBOX_DETECTION_ARCH;
    const onArch = (r: Rig): boolean => arch === undefined || r.arch === arch;
    const rows: BenchRow[] = [];
    ctx.log(`detection: budget ${budget} schedules, ${DETECTION_SEEDS} seeds`);
    for (const s of phase === 'correct' ? [] : scenarios) {
      if (isCorrect(s, rigs)) continue;
      const at = detectionRig(s, rigs, 'buggy');
      if (!at || !onArch(at.rig)) continue;
      for (const st of DETECTION_STRATEGIES) {
        const c = detect(at.rig, s, at.expected, st, budget);
        const note = [
          c.median !== undefined ? `median ${c.median} schedules to the first failure` : `not found in ${budget} schedules`,
          ...(st.seeded ? [] : ['deterministic: one run stands for every seed']),
          ...(c.wrong ? [`other failure: ${c.wrong}`] : []),
          `expects ${describeExpected(at.expected)}`,
        ].join('; ');
        rows.push({ name: `found ${s.id} @ ${at.rig.id} — ${st.label}`, value: c.found, unit: `/${c.seeds} seeds`, note });
        ctx.log(`  ${s.id} ${st.label}: ${c.found}/${c.seeds}${c.median !== undefined ? `, median ${c.median}` : ''}`);
      }
    }
    const rate = new Map<string, { schedules: number; ms: number }>();
    const cleanCells = (phase === 'buggy' ? [] : scenarios).flatMap((s) => cleanRigs(s).filter(onArch).map((rig) => ({ s, rig })));
    for (const { s, rig } of cleanCells) {
      for (const st of DETECTION_STRATEGIES) {
        const r: RunSummary = explore(rig, s, { ...st.options, seed: 1, schedules: budget });
        const clean = r.outcome === 'pass';
        // The speed line compares like with like: x64 rows only (ARM64's model costs more per step).
        const acc = rate.get(st.label) ?? { schedules: 0, ms: 0 };
        if (rig.arch === 'x64') rate.set(st.label, { schedules: acc.schedules + r.schedulesRun, ms: acc.ms + r.elapsedMs });
        rows.push({
          name: `clean ${s.id} @ ${rig.id} — ${st.label}`,
          value: clean ? r.schedulesRun : 0,
          unit: 'clean schedules',
          note: clean ? (r.exhausted ? 'every schedule within the bound' : 'no failure') : `FALSE FAILURE at schedule ${r.failingSchedule}: ${describeFailure(r)} — ${r.failure?.message ?? ''}`,
        });
        ctx.log(`  clean ${s.id} @ ${rig.id} ${st.label}: ${clean ? 'ok' : `FAILED ${describeFailure(r)}`}`);
      }
    }
    const per = (label: string): number => {
      const a = rate.get(label);
      return a && a.ms > 0 ? Math.round((a.schedules * 1000) / a.ms) : 0;
    };
    const pct = per('pct d=3');
    const portfolio = per('portfolio');
    // No line without x64 correct rows to measure (the buggy half, or RACEBOX_DETECTION_ARCH=arm64).
    if (phase !== 'buggy' && pct > 0) rows.push({
      name: 'portfolio schedules/s on the correct scenarios',
      value: portfolio,
      unit: 'schedules/s',
      baseline: { name: 'pct d=3', value: pct },
      ...(pct > 0 ? { ratio: portfolio / pct } : {}),
      note: 'the same scenarios and budget; should be within 10% of pct',
    });
    return rows;
  },
};

export default mod;
