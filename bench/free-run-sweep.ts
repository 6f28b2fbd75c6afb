/**
 * Every library scenario under free-run on one rig: does free-run end as the
 * scenario's expectation for that rig says? Not part of `racebox bench` (it
 * measures nothing); run it with
 *   node --import ./bin/register.mjs bench/free-run-sweep.ts [rig] [seconds]
 * The last result is in bench/free-run-sweep-2026-11-22.txt.
 */
import { availableParallelism } from 'node:os';
import { freeRun } from '../src/engine/free/run.ts';
import { presetRig } from '../src/machine/presets.ts';
import { loadAllScenarios } from '../src/workers/node-load.ts';
import { checkExpectation, describeExpected, expectedOutcome } from '../src/scenario/expect.ts';
import { nodeFreeWorker } from '../src/workers/node-entry.ts';
const rig = presetRig(process.argv[2] ?? 'dual-opteron-240')!;
const seconds = +(process.argv[3] ?? 3);
let agree = 0, n = 0;
for (const s of await loadAllScenarios()) {
  const exp = expectedOutcome(s, rig);
  const r = await freeRun(rig, { id: s.id }, s.id, () => nodeFreeWorker(), { seconds, hostCpus: availableParallelism(), stallMs: 10000 });
  const mismatch = exp ? checkExpectation(exp, r) : 'no expectation';
  n++; if (!mismatch) agree++;
  const what = r.outcome === 'pass' ? `pass (${r.iterations} iterations)` : `${r.outcome}${r.failure?.bugcheck ? ` ${r.failure.bugcheck.name}` : ''} after ${r.iterations} iterations`;
  console.log(`${mismatch ? 'DIFF' : 'ok  '}  ${s.id.padEnd(34)} expected ${exp ? describeExpected(exp) : '?'}; free-run: ${what}${mismatch ? ` — ${(r.failure?.message ?? mismatch).slice(0, 140)}` : ''}${r.warnings.length ? ' [warning]' : ''}`);
}
console.log(`free-run agrees with the expectation on ${agree} of ${n} scenarios on ${rig.id} (${seconds} s each)`);
