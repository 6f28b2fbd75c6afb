/**
 * The portfolio's schedules/s against pct's (depth 3) on the correct library scenarios, measured
 * as an A/B comparison: for each scenario, rounds of a fixed number of schedules alternate between
 * the two strategies (the order flips every round), so a load that drifts over minutes — other work
 * on a shared host — falls on both alike. The detection table's speed line instead runs each
 * strategy once for the whole budget, minutes apart, and on a loaded host reads anywhere from half
 * to ten times pct's rate.
 *
 * Reported: per scenario the median of its rounds' ratios, and overall the median and the range of
 * those per-scenario ratios. Opt-in (`racebox bench --only "portfolio speed"`); RACEBOX_DETECTION_SCENARIOS
 * limits it to some families as for the detection table.
 */
import type { ExploreOptions } from '../src/engine/explore.ts';
import { listRigs, loadAllScenarios } from '../src/workers/node-load.ts';
import { detectionRig, isCorrect } from './detection.bench.ts';
import { alternatingRounds, explorationRate } from './ab.ts';
import type { BenchModule, BenchRow } from './index.ts';
import { median, pct } from './stats.ts';

const PCT: ExploreOptions = { strategy: 'pct', depth: 3 };
const PORTFOLIO: ExploreOptions = { strategy: 'portfolio' };


const mod: BenchModule = {
  title: 'portfolio speed',
  async run(ctx) {
    const schedules = ctx.quick ? 300 : 3000;
    const rounds = ctx.quick ? 3 : 7;
    const rigs = listRigs();
    const only = process.env.RACEBOX_DETECTION_SCENARIOS?.split(',').filter((x) => x !== '');
    const scenarios = (await loadAllScenarios()).filter((s) => !only || only.some((o) => s.id === o || s.id.startsWith(`${o}/`)));
    const rows: BenchRow[] = [];
    const ratios: number[] = [];
    for (const s of scenarios) {
      if (!isCorrect(s, rigs)) continue;
      const at = detectionRig(s, rigs, 'correct');
      if (!at) continue;
      // A warm-up round of each, so that neither pays for the first compilation of the scenario.
      explorationRate(at.rig, s, PCT, 1, Math.min(schedules, 300));
      explorationRate(at.rig, s, PORTFOLIO, 1, Math.min(schedules, 300));
      const { base: a, cand: b, ratios: per } = alternatingRounds(rounds, (seed) => explorationRate(at.rig, s, PCT, seed, schedules), (seed) => explorationRate(at.rig, s, PORTFOLIO, seed, schedules));
      const ratio = median(per);
      ratios.push(ratio);
      rows.push({
        name: `portfolio vs pct d=3: ${s.id} @ ${at.rig.id}`,
        value: Math.round(median(b)),
        unit: 'schedules/s',
        baseline: { name: 'pct d=3', value: Math.round(median(a)) },
        ratio,
        note: `median of ${rounds} alternating rounds of ${schedules} schedules; round ratios ${pct(Math.min(...per))}–${pct(Math.max(...per))}`,
      });
      ctx.log(`  ${s.id}: portfolio ${pct(ratio)} of pct (rounds ${pct(Math.min(...per))}–${pct(Math.max(...per))})`);
    }
    if (ratios.length > 0) {
      rows.push({
        name: 'portfolio schedules/s vs pct d=3, median over the correct scenarios',
        value: median(ratios),
        unit: 'ratio',
        note: `${ratios.length} scenarios; per-scenario ratios ${pct(Math.min(...ratios))}–${pct(Math.max(...ratios))}; target: within 10% of pct`,
      });
    }
    return rows;
  },
};

export default mod;
