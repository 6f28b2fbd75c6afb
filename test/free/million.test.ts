import { describe, expect, it } from 'vitest';
import { cpusRig, loop, noWorkersLeft, runFree } from './helpers.ts';

// At least one million acquisitions of each correct lock under free-run, on 2 CPU workers: 4 threads
// folded onto them (generators, 2,000 acquisitions per iteration), and one thread per CPU
// (plain-function twins, the benchmark's loops, 20,000 per iteration). About a minute on a 2-core host.
const KINDS = ['tas', 'ttas', 'ke', 'queued'] as const;
const CASES = [
  ...KINDS.map((kind) => ({ name: kind, ref: loop(kind, 500), perIteration: 2000 })),
  ...KINDS.map((kind) => ({ name: `${kind}-2`, ref: loop(kind, 10_000, 2), perIteration: 20_000 })),
];

describe('mutual exclusion over a million acquisitions', () => {
  for (const { name, ref, perIteration } of CASES) {
    it(`${name}: no critical section is ever entered twice at once`, async () => {
      const iterations = Math.ceil(1_000_000 / perIteration);
      // The watchdog only has to tell a real hang from a worker the shared host starved for a while.
      const r = await runFree(cpusRig(2), ref, { iterations, stallMs: 30_000 });
      expect(r.outcome, r.failure?.message).toBe('pass');
      expect(r.iterations * perIteration).toBeGreaterThanOrEqual(1_000_000);
      console.log(`${name}: ${r.iterations * perIteration} acquisitions in ${(r.elapsedMs / 1000).toFixed(1)} s (${r.cpus[0]?.mode}), ${r.totals.spins} spins`);
      expect(await noWorkersLeft()).toBe(0);
    }, 600_000);
  }
});
