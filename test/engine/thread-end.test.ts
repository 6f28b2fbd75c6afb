import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { PRESET_RIGS } from '../../src/machine/presets.ts';
import { CHECKED_MP, FREE_MP, runOnce, scn } from '../helpers.ts';

/**
 * A PASSIVE_LEVEL thread whose last act queues a DPC to its own CPU: the DPC runs at once, above
 * the thread, at DISPATCH_LEVEL. The thread itself returns at PASSIVE_LEVEL, which Windows accepts.
 * A second thread on the same CPU must still be dispatched once the DPC has returned.
 */
const dpcLast = scn({
  id: 'test/dpc-as-last-act',
  setup: (k) => {
    const ran = k.ExAllocatePool2(0, 4, 'Ran');
    const after = k.ExAllocatePool2(0, 4, 'After');
    const dpc = k.KeInitializeDpc(function* (kk: Kernel) {
      yield* kk.InterlockedIncrement(ran);
    }, 0, 'ownCpuDpc');
    return { ran, after, dpc };
  },
  actors: {
    queuer: { cpu: 0, *run(k, s) { yield* k.KeInsertQueueDpc(s.dpc); } },
    next: { cpu: 0, *run(k, s) { yield* k.InterlockedIncrement(s.after); } },
  },
  invariants: {
    'the DPC ran once': (s, k) => k.peek(s.ran) === 1 || `ran ${k.peek(s.ran)} times`,
    'the other thread ran': (s, k) => k.peek(s.after) === 1,
  },
});

describe('thread end', () => {
  for (const rig of PRESET_RIGS) {
    it(`a thread whose last act queues a DPC to its own CPU passes on ${rig.id} (its own IRQL is checked, not the DPC's)`, () => {
      for (const strategy of ['pct', 'random', 'dfs'] as const) {
        const r = explore(rig, dpcLast, { strategy, schedules: 300, seed: 1 });
        expect(r.outcome, `${strategy}: ${r.failure?.message}`).toBe('pass');
        expect(r.schedulesRun).toBeGreaterThan(0);
      }
    });
  }

  it('a thread that returns at DISPATCH_LEVEL is still IRQL_GT_ZERO_AT_SYSTEM_SERVICE, with its IRQL as parameter 2', () => {
    const x = runOnce(CHECKED_MP, scn({ setup: () => ({}), actors: { t: { *run(k) { yield* k.KeRaiseIrql(2); } } } }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure?.bugcheck?.name).toBe('IRQL_GT_ZERO_AT_SYSTEM_SERVICE');
    expect(x.failure?.bugcheck?.params[1]).toBe(2);
  });

  it('a thread that returns inside a critical region is APC_INDEX_MISMATCH on both builds', () => {
    for (const rig of [CHECKED_MP, FREE_MP]) {
      const x = runOnce(rig, scn({ setup: () => ({}), actors: { t: { *run(k) { yield* k.KeEnterCriticalRegion(); } } } }));
      expect(x.failure?.bugcheck?.name, rig.id).toBe('APC_INDEX_MISMATCH');
    }
  });

  it('a DPC that returns below DISPATCH_LEVEL is IRQL_UNEXPECTED_VALUE', () => {
    const lowers = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ dpc: k.KeInitializeDpc(function* (kk: Kernel) { yield* kk.KeLowerIrql(0); }) }),
      actors: { t: { *run(k, s) { yield* k.KeInsertQueueDpc(s.dpc); } } },
    }));
    expect(lowers.failure?.bugcheck?.code).toBe(0xc8);
  });
});
