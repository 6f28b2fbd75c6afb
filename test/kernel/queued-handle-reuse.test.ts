import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { preset, rig, scn } from '../helpers.ts';

/**
 * Windows clears only the owner bit of a KLOCK_QUEUE_HANDLE on release: the handle still names its lock.
 * A handle reused for two nested acquisitions therefore releases the inner lock twice and never the outer
 * one — on a free build that ends as the spin it causes on a real machine, not as a scenario error.
 */
describe('an in-stack queued lock handle reused for nested acquisitions', () => {
  const s = scn<{ a: number; b: number; h: number }>({
    setup: (k) => ({ a: k.KeInitializeSpinLock(), b: k.KeInitializeSpinLock(), h: k.ExAllocatePool2(0, 12, 'Hndl') }),
    actors: {
      nested: {
        cpu: 0,
        *run(k, s) {
          yield* k.KeAcquireInStackQueuedSpinLock(s.a, s.h);
          yield* k.KeAcquireInStackQueuedSpinLock(s.b, s.h); // the same handle again
          yield* k.KeReleaseInStackQueuedSpinLock(s.h);
          yield* k.KeReleaseInStackQueuedSpinLock(s.h);
        },
      },
    },
  });

  it('free build, MP HAL: the second release spins forever on the handle (a hang), not a scenario error', () => {
    const r = explore(preset('quad-free'), s, { strategy: 'random', seed: 1, schedules: 5 });
    expect(r.outcome).toBe('hang');
    expect(r.failure!.message).toMatch(/thread 'nested' at DISPATCH_LEVEL spins on/);
    expect(r.failure!.message).not.toMatch(/never used/);
  });

  it('free build, UP HAL: the outer lock\'s IRQL is never restored', () => {
    const r = explore(rig({ id: 'up-free', cores: 1, hal: 'up', build: 'free' }), s, { strategy: 'random', seed: 1, schedules: 5 });
    expect(r.outcome).toBe('bugcheck');
    expect(r.failure!.bugcheck!.name).toBe('IRQL_GT_ZERO_AT_SYSTEM_SERVICE');
  });

  it('checked build: Driver Verifier stops the reuse at the second acquire', () => {
    const r = explore(preset('dual-opteron-240'), s, { strategy: 'random', seed: 1, schedules: 5 });
    expect(r.outcome).toBe('bugcheck');
    expect(r.failure!.bugcheck!.name).toBe('DRIVER_VERIFIER_DETECTED_VIOLATION');
  });
});
