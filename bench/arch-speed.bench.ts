/**
 * Exploration speed on ARM64 against x64 on the same machine: arm64-quad next to a rig identical
 * but for its architecture (x64, x86-TSO), the default strategy, on every library scenario that is
 * expected to pass on both (a failing one stops at its first failure, which says nothing about
 * speed). Rounds alternate between the two rigs (the order flips every round), so a load that
 * drifts falls on both alike; reported per scenario as the median of the rounds' ratios, then the
 * median and the range over the scenarios. Issue 17's target: arm64 at no less than a third of x64.
 *
 * Opt-in: `racebox bench --only "arm64 speed"`.
 */
import type { Rig } from '../src/machine/rig.ts';
import { presetRig } from '../src/machine/presets.ts';
import type { Scenario } from '../src/scenario/define.ts';
import { expectedOutcome } from '../src/scenario/expect.ts';
import { loadAllScenarios } from '../src/workers/node-load.ts';
import { alternatingRounds, explorationRate } from './ab.ts';
import type { BenchModule, BenchRow } from './index.ts';
import { median, pct } from './stats.ts';

const rate = (rig: Rig, s: Scenario, seed: number, schedules: number): number => explorationRate(rig, s, {}, seed, schedules);

const mod: BenchModule = {
  title: 'arm64 speed',
  async run(ctx) {
    const schedules = ctx.quick ? 200 : 2000;
    const rounds = ctx.quick ? 3 : 5;
    const arm = presetRig('arm64-quad')!;
    const x64: Rig = { ...arm, id: 'x64-quad', title: 'arm64-quad as x64', arch: 'x64' };
    const rows: BenchRow[] = [];
    const ratios: number[] = [];
    for (const s of await loadAllScenarios()) {
      if (expectedOutcome(s, arm) !== 'pass' || expectedOutcome(s, x64) !== 'pass') continue;
      rate(arm, s, 1, Math.min(schedules, 200));
      rate(x64, s, 1, Math.min(schedules, 200));
      const { base: a, cand: b, ratios: per } = alternatingRounds(rounds, (seed) => rate(x64, s, seed, schedules), (seed) => rate(arm, s, seed, schedules));
      const ratio = median(per);
      ratios.push(ratio);
      rows.push({
        name: `arm64 vs x64 (4 CPUs): ${s.id}`,
        value: Math.round(median(b)),
        unit: 'schedules/s',
        baseline: { name: 'x64', value: Math.round(median(a)) },
        ratio,
        note: `median of ${rounds} alternating rounds of ${schedules} schedules`,
      });
      ctx.log(`  ${s.id}: arm64 ${pct(ratio)} of x64`);
    }
    if (ratios.length > 0) {
      rows.push({
        name: 'arm64 schedules/s vs x64, median over the scenarios that pass on both',
        value: median(ratios),
        unit: 'ratio',
        note: `${ratios.length} scenarios; per-scenario ratios ${pct(Math.min(...ratios))}–${pct(Math.max(...ratios))}; target: at least 33%`,
      });
    }
    return rows;
  },
};

export default mod;
