/** Named liveness failures: each stuck end the kernel recognises says what it is, and `expect` can name it. */
import { describe, expect, it } from 'vitest';
import { IRP_PENDING_NEVER_COMPLETED, REMOVE_LOCK_WAIT_NEVER_RETURNS, RUNDOWN_NEVER_DRAINS } from '../../src/kernel/liveness.ts';
import { checkExpectation } from '../../src/scenario/expect.ts';
import { CHECKED_MP, FREE_MP, runOnce, scn } from '../helpers.ts';

describe('named liveness failures', () => {
  it('an IRP marked pending and never completed names the IRP, who marked it and the step', () => {
    const x = runOnce(FREE_MP, scn<{ irp: number }>({
      setup: (k) => ({ irp: k.IoAllocateIrp() }),
      actors: { dispatch: { *run(k, s) { yield* k.YieldProcessor(); k.IoMarkIrpPending(s.irp); yield* k.YieldProcessor(); } } },
    }));
    expect(x.outcome).toBe('hang');
    expect(x.failure?.liveness?.name).toBe(IRP_PENDING_NEVER_COMPLETED);
    expect(x.failure?.liveness?.step).toBeGreaterThan(0);
    expect(x.failure?.message).toMatch(new RegExp(`IRP 0x[0-9a-f]{8} \\(irp\\) was marked pending by 'dispatch' at step ${x.failure!.liveness!.step} and never completed`));
  });

  it('a completed pending IRP is no failure', () => {
    const x = runOnce(CHECKED_MP, scn<{ irp: number }>({
      setup: (k) => ({ irp: k.IoAllocateIrp() }),
      actors: { dispatch: { *run(k, s) { k.IoMarkIrpPending(s.irp); yield* k.IoCompleteRequest(s.irp); } } },
    }));
    expect(x.outcome).toBe('pass');
  });

  it('a rundown wait that never drains is named, with the object and the step the wait began', () => {
    const x = runOnce(CHECKED_MP, scn<{ ref: number }>({
      setup: (k) => ({ ref: k.ExInitializeRundownProtection() }),
      actors: {
        user: { cpu: 0, *run(k, s) { yield* k.ExAcquireRundownProtection(s.ref); } }, // BUG: never released
        unload: { cpu: 1, *run(k, s) { yield* k.YieldProcessor(); yield* k.YieldProcessor(); yield* k.ExWaitForRundownProtectionRelease(s.ref); } },
      },
    }));
    expect(x.outcome === 'hang' || x.outcome === 'deadlock').toBe(true);
    expect(x.failure?.liveness?.name).toBe(RUNDOWN_NEVER_DRAINS);
    expect(x.failure?.message).toMatch(/the rundown of ref never drains: thread 'unload' on CPU 1 has waited in ExWaitForRundownProtectionRelease since step \d+ for 1 rundown protection that was never released/);
  });

  it('IoReleaseRemoveLockAndWait that never returns is named, with the holders left', () => {
    const x = runOnce(CHECKED_MP, scn<{ lock: number }>({
      setup: (k) => ({ lock: k.name(k.IoInitializeRemoveLock(), 'RemoveLock') }),
      actors: {
        io: { cpu: 0, *run(k, s) { yield* k.IoAcquireRemoveLock(s.lock); } }, // BUG: never released
        remove: { cpu: 1, *run(k, s) { yield* k.YieldProcessor(); yield* k.YieldProcessor(); yield* k.IoAcquireRemoveLock(s.lock); yield* k.IoReleaseRemoveLockAndWait(s.lock); } },
      },
    }));
    expect(x.failure?.liveness?.name).toBe(REMOVE_LOCK_WAIT_NEVER_RETURNS);
    expect(x.failure?.message).toMatch(/IoReleaseRemoveLockAndWait on RemoveLock never returns: thread 'remove' .* for 1 holder that never called IoReleaseRemoveLock/);
  });

  it('a plain hang carries no liveness name', () => {
    const x = runOnce(CHECKED_MP, scn<{ e: number }>({
      setup: (k) => ({ e: k.KeInitializeEvent(0, false) }),
      actors: { t: { *run(k, s) { yield* k.KeWaitForSingleObject(s.e, 0, 0, false, null); } } },
    }));
    expect(x.outcome === 'hang' || x.outcome === 'deadlock').toBe(true);
    expect(x.failure?.liveness).toBeUndefined();
  });
});

describe('expect: { liveness }', () => {
  const hang = (name?: string) => ({ outcome: 'hang' as const, schedulesRun: 3, failure: { kind: 'hang' as const, ...(name ? { liveness: { name } } : {}) } });

  it('matches a hang or deadlock with that name, and nothing else', () => {
    expect(checkExpectation({ liveness: RUNDOWN_NEVER_DRAINS }, hang(RUNDOWN_NEVER_DRAINS))).toBeNull();
    expect(checkExpectation({ liveness: RUNDOWN_NEVER_DRAINS }, hang(IRP_PENDING_NEVER_COMPLETED))).toMatch(/expected liveness 'rundown-never-drains', got hang \(liveness 'irp-pending-never-completed'\)/);
    expect(checkExpectation({ liveness: RUNDOWN_NEVER_DRAINS }, hang())).toMatch(/got hang$/);
    expect(checkExpectation({ liveness: RUNDOWN_NEVER_DRAINS }, { outcome: 'pass', schedulesRun: 10 })).toMatch(/10 schedules found no failure/);
    // A plain 'hang' still matches a named one.
    expect(checkExpectation('hang', hang(RUNDOWN_NEVER_DRAINS))).toBeNull();
  });

  it('an unknown name is refused when the scenario loads', () => {
    expect(() => scn({ setup: () => ({}), actors: { t: { *run() {} } }, expect: { liveness: 'never-ever' } })).toThrow(/unknown liveness failure 'never-ever'/);
  });
});
