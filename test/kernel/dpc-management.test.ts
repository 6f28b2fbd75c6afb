import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { DPC_DATA, DPC_DEFERRED_CONTEXT, DPC_RUNNING } from '../../src/kernel/dpc.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { DISPATCH_LEVEL } from '../../src/machine/irql.ts';
import { CHECKED_MP, FREE_MP, preset, runOnce, scn } from '../helpers.ts';

const DUAL = preset('dual-opteron-240');

function* CountDpc(k: Kernel, _dpc: number, devExt: number) {
  const n = yield* k.ReadNoFence(devExt);
  yield* k.WriteNoFence(devExt, n + 1);
}

interface S {
  devExt: number;
  dpc: number;
}

/** A KDPC at word 4 of a device extension, targeted at processor 1. */
const embedded = (k: Kernel): S => {
  const devExt = k.ExAllocatePoolWithTag(0, 64, 'DevX');
  const dpc = k.KeInitializeDpc(devExt + 4, CountDpc, devExt, 'CountDpc');
  k.KeSetTargetProcessorDpc(dpc, 1);
  return { devExt, dpc };
};

describe('KDPC in caller storage', () => {
  it('KeInitializeDpc(dpc, routine, context) lays the KDPC out at the given address', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: embedded,
      actors: {
        t: {
          cpu: 0,
          *run(k, s) {
            k.NT_ASSERT(s.dpc === s.devExt + 4, 'the KDPC is where the caller put it');
            k.NT_ASSERT(k.peek(s.dpc + DPC_DEFERRED_CONTEXT) === s.devExt);
            k.NT_ASSERT(yield* k.KeInsertQueueDpc(s.dpc));
            yield* k.KeFlushQueuedDpcs();
            k.NT_ASSERT(k.peek(s.devExt) === 1, 'flushed: the DPC ran');
            k.NT_ASSERT(k.peek(s.dpc + DPC_DATA) === 0 && k.peek(s.dpc + DPC_RUNNING) === 0);
          },
        },
      },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  it('storage too small or not allocated is a scenario error', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => {
        const p = k.ExAllocatePoolWithTag(0, 8, 'Smal');
        return { dpc: k.KeInitializeDpc(p, CountDpc, 0) };
      },
      actors: { t: { *run() {} } },
    }));
    expect(x.outcome).toBe('error');
    expect(x.failure?.message).toMatch(new RegExp(`KDPC needs that many`));
  });

  it('freeing the structure while its DPC is queued: the delivery touches freed pool (0xD5 checked; the routine reads poison on a free build)', () => {
    const s = scn<S>({
      setup: embedded,
      actors: {
        t: {
          cpu: 0,
          *run(k, s) {
            const old = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            yield* k.KeInsertQueueDpc(s.dpc);
            yield* k.ExFreePoolWithTag(s.devExt, 'DevX');
            yield* k.KeLowerIrql(old);
          },
        },
      },
    });
    const c = explore(DUAL, s, { schedules: 200 });
    expect(c.failure?.bugcheck?.name).toBe('DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL');
    expect(c.failure?.routine).toBe('CountDpc');
  });
});

describe('KeRemoveQueueDpc and KeFlushQueuedDpcs', () => {
  it('KeRemoveQueueDpc: TRUE for a queued DPC, which then never runs; FALSE when not queued', () => {
    const x = runOnce(FREE_MP, scn<S>({
      setup: embedded,
      actors: {
        t: {
          cpu: 0,
          *run(k, s) {
            k.KeSetTargetProcessorDpc(s.dpc, 0); // our own processor, kept at DISPATCH_LEVEL: the DPC stays queued
            const old = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            k.NT_ASSERT(!(yield* k.KeRemoveQueueDpc(s.dpc)), 'not queued yet');
            k.NT_ASSERT(yield* k.KeInsertQueueDpc(s.dpc));
            k.NT_ASSERT(yield* k.KeRemoveQueueDpc(s.dpc), 'queued: removed');
            k.NT_ASSERT(!(yield* k.KeRemoveQueueDpc(s.dpc)), 'removed already');
            yield* k.KeLowerIrql(old);
            yield* k.KeFlushQueuedDpcs();
          },
        },
      },
      invariants: { 'never ran': (s, k) => k.peek(s.devExt) === 0 },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  it('KeFlushQueuedDpcs returns only after a DPC queued on another processor has finished, in every interleaving', () => {
    const r = explore(DUAL, scn<S>({
      setup: embedded,
      actors: {
        t: {
          cpu: 0,
          *run(k, s) {
            yield* k.KeInsertQueueDpc(s.dpc);
            yield* k.KeFlushQueuedDpcs();
            k.NT_ASSERT((yield* k.ReadNoFence(s.devExt)) === 1, 'the flush returned before the DPC finished');
            yield* k.ExFreePoolWithTag(s.devExt, 'DevX');
          },
        },
      },
    }), { schedules: 300 });
    expect(r.failure?.message).toBeUndefined();
    expect(r.outcome).toBe('pass');
  });

  it('checked build: KeFlushQueuedDpcs above PASSIVE_LEVEL is 0x1E', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: embedded,
      actors: { t: { *run(k) { const old = yield* k.KeRaiseIrql(1); yield* k.KeFlushQueuedDpcs(); yield* k.KeLowerIrql(old); } } },
    }));
    expect(x.failure?.bugcheck?.name).toBe('KMODE_EXCEPTION_NOT_HANDLED');
    expect(x.failure?.message).toMatch(/KeFlushQueuedDpcs called from thread/);
  });
});
