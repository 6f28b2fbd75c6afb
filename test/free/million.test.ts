import { describe, expect, it } from 'vitest';
import { cpusRig, loop, noWorkersLeft, runFree } from './helpers.ts';

// At least one million acquisitions per lock under free-run, on 2 CPU workers
// (4 threads, 2,000 acquisitions per iteration, 500 iterations). Minutes long,
// so it is not part of `npm test`: run it with `npm run test:long`.
describe('mutual exclusion over a million acquisitions', () => {
  // <kind>: 4 threads on 2 CPUs (generators); <kind>-2: one thread per CPU (plain-function twins).
  for (const kind of ['tas', 'ttas', 'queued', 'tas-2', 'ttas-2', 'queued-2']) {
    it(`${kind}: no critical section is ever entered twice at once`, async () => {
      const r = await runFree(cpusRig(2), loop(kind), { iterations: 500, stallMs: 30_000 });
      expect(r.outcome, r.failure?.message).toBe('pass');
      expect(r.iterations * 2000).toBeGreaterThanOrEqual(1_000_000);
      console.log(`${kind}: ${r.iterations * 2000} acquisitions in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.totals.spins} spins`);
      expect(await noWorkersLeft()).toBe(0);
    }, 600_000);
  }
});
