/**
 * Seeds check for the rundown, IRP-cancel and DPC scenarios (run with `npx tsx test/kernel/seeds-check-io.ts`):
 * every buggy scenario must be found by the default strategy within 10,000 schedules, with the failure its expectation
 * names, for at least 9 of seeds 1-10 on every preset rig; every correct scenario must run 100,000 schedules clean.
 * Options: --only <id-prefix>, --pass-budget N, --find-budget N.
 */
import { explore } from '../../src/engine/explore.ts';
import { presetRig } from '../../src/machine/presets.ts';
import type { Scenario } from '../../src/scenario/define.ts';
import { checkExpectation, describeExpected, expectedOutcome } from '../../src/scenario/expect.ts';

const IDS = [
  'rundown/naive-flag-refcount', 'rundown/ignore-failed-acquire', 'rundown/buffer-swap',
  'cancel/check-then-set', 'cancel/set-then-queue', 'cancel/no-exchange-check', 'cancel/consumer-keeps-routine',
  'cancel/routine-keeps-cancel-lock', 'cancel/manual-protocol', 'cancel/global-cancel-lock', 'cancel/csq',
  'dpc/concurrent-self', 'dpc/concurrent-self-locked',
];
const RIGS = ['uniprocessor', 'p4-ht', 'dual-opteron-240', 'quad-free', 'workstation-16'];

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const only = arg('--only');
const passBudget = Number(arg('--pass-budget') ?? 100_000);
const findBudget = Number(arg('--find-budget') ?? 10_000);

let bad = 0;
for (const id of IDS) {
  if (only && !id.startsWith(only)) continue;
  const scenario = (await import(`../../scenarios/${id}.ts`)).default as Scenario;
  for (const rigId of RIGS) {
    const rig = presetRig(rigId)!;
    const expected = expectedOutcome(scenario, rig)!;
    const t0 = Date.now();
    if (expected === 'pass') {
      const r = explore(rig, scenario, { seed: 1, schedules: passBudget });
      const why = checkExpectation(expected, r);
      if (why) bad++;
      console.log(`${why ? 'FAIL' : 'ok  '}  ${id.padEnd(30)} ${rigId.padEnd(17)} pass: ${r.schedulesRun} schedules, ${r.outcome}${why ? ` — ${why}` : ''} (${Date.now() - t0} ms)`);
      continue;
    }
    let found = 0;
    const counts: number[] = [];
    const misses: string[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const r = explore(rig, scenario, { seed, schedules: findBudget });
      const why = checkExpectation(expected, r);
      if (why) misses.push(`seed ${seed}: ${why}`);
      else {
        found++;
        counts.push(r.schedulesRun);
      }
    }
    const ok = found >= 9;
    if (!ok) bad++;
    const max = counts.length ? Math.max(...counts) : 0;
    const mean = counts.length ? (counts.reduce((a, b) => a + b, 0) / counts.length).toFixed(1) : '-';
    console.log(`${ok ? 'ok  ' : 'FAIL'}  ${id.padEnd(30)} ${rigId.padEnd(17)} ${describeExpected(expected)}: found by ${found}/10 seeds, schedules mean ${mean}, max ${max} (${Date.now() - t0} ms)${misses.length ? `\n        ${misses.join('\n        ')}` : ''}`);
  }
}
console.log(bad === 0 ? 'seeds-check: all expectations hold' : `seeds-check: ${bad} failing rows`);
process.exit(bad === 0 ? 0 : 1);
