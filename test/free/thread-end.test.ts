import { describe, expect, it } from 'vitest';
import { fixture, noWorkersLeft, rig, runFree } from './helpers.ts';

// The thread-end checks free-run makes are the machine's (Machine.endThread), in both of its modes.
describe('free-run thread end', () => {
  for (const mode of ['generators', 'auto'] as const) {
    const label = mode === 'auto' ? 'twins' : 'generators';

    it(`a thread that returns inside a critical region is APC_INDEX_MISMATCH (${label})`, async () => {
      const r = await runFree(rig('dual-opteron-240'), fixture('critical-region-leak'), { seconds: 10, mode });
      expect(r.outcome, r.failure?.message).toBe('bugcheck');
      expect(r.failure?.bugcheck?.name).toBe('APC_INDEX_MISMATCH');
      expect(r.failure?.routine).toMatch(/leaks/);
      expect(r.cpus.map((c) => c.mode)).toEqual(mode === 'auto' ? ['twin', 'twin'] : ['generators', 'generators']);
      expect(await noWorkersLeft()).toBe(0);
    }, 60_000);

    it(`a thread whose last act queues a DPC to its own CPU passes (${label})`, async () => {
      const r = await runFree(rig('dual-opteron-240'), fixture('dpc-as-last-act'), { iterations: 300, mode });
      expect(r.outcome, r.failure?.message).toBe('pass');
      expect(r.iterations).toBe(300);
      expect(r.cpus[0]!.dpcs).toBe(300);
      expect(r.cpus[0]!.mode).toBe(mode === 'auto' ? 'twin' : 'generators');
      expect(await noWorkersLeft()).toBe(0);
    }, 60_000);
  }
});
