import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { IRP_CANCEL, IRP_CANCEL_ROUTINE, type DRIVER_CANCEL } from '../../src/kernel/irp.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { STATUS_CANCELLED, STATUS_PENDING } from '../../src/kernel/status.ts';
import { DISPATCH_LEVEL, PASSIVE_LEVEL } from '../../src/machine/irql.ts';
import { CHECKED_MP, FREE_MP, preset, runOnce, scn } from '../helpers.ts';

interface I {
  irp: number;
  flags: number;
}
const setup = (k: Kernel): I => ({ irp: k.IoAllocateIrp(), flags: k.ExAllocatePool2(0, 16, 'Flag') });

function* R1(k: Kernel, irp: number) {
  yield* k.IoReleaseCancelSpinLock(k.IrpCancelIrql(irp));
  yield* k.IrpSetIoStatus(irp, STATUS_CANCELLED, 0);
  yield* k.IoCompleteRequest(irp);
}
function* R2(k: Kernel, irp: number) {
  yield* R1(k, irp);
}

describe('IoSetCancelRoutine and IoCancelIrp', () => {
  it('IoSetCancelRoutine is an exchange that returns the previous routine', () => {
    const x = runOnce(CHECKED_MP, scn<I>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            k.NT_ASSERT((yield* k.IoSetCancelRoutine(s.irp, R1)) === null, 'none set yet');
            k.NT_ASSERT((yield* k.IoSetCancelRoutine(s.irp, R2)) === R1, 'returns R1');
            k.NT_ASSERT((yield* k.IoSetCancelRoutine(s.irp, null)) === R2, 'returns R2');
            k.NT_ASSERT((yield* k.IoSetCancelRoutine(s.irp, null)) === null, 'cleared');
          },
        },
      },
    }));
    expect(x.failure?.message).toBeUndefined();
  });

  it('IoCancelIrp without a routine sets Cancel, releases the cancel lock and returns FALSE', () => {
    const x = runOnce(CHECKED_MP, scn<I>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            k.NT_ASSERT((yield* k.IoCancelIrp(s.irp)) === false, 'FALSE');
            k.NT_ASSERT(yield* k.IrpCancelFlag(s.irp), 'Cancel set');
            k.NT_ASSERT(k.KeGetCurrentIrql() === PASSIVE_LEVEL, 'IRQL restored');
            const irql = yield* k.IoAcquireCancelSpinLock(); // free again
            yield* k.IoReleaseCancelSpinLock(irql);
          },
        },
      },
    }));
    expect(x.failure?.message).toBeUndefined();
  });

  it('IoCancelIrp claims the routine and calls it at DISPATCH_LEVEL holding the cancel lock, with CancelIrql set', () => {
    let seen = '';
    function* Observe(k: Kernel, irp: number) {
      seen = `irql=${k.KeGetCurrentIrql()} cancelIrql=${k.IrpCancelIrql(irp)} routine=${k.peek(irp + IRP_CANCEL_ROUTINE)} cancel=${k.peek(irp + IRP_CANCEL)} held=${k.ctx.heldLocks.length}`;
      yield* R1(k, irp);
    }
    const x = runOnce(CHECKED_MP, scn<I>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            k.IoMarkIrpPending(s.irp);
            yield* k.IoSetCancelRoutine(s.irp, Observe);
            k.NT_ASSERT((yield* k.IoCancelIrp(s.irp)) === true, 'TRUE');
            k.NT_ASSERT(k.IrpCompleted(s.irp) && k.IrpStatus(s.irp) === STATUS_CANCELLED, 'completed as cancelled');
            k.NT_ASSERT(k.KeGetCurrentIrql() === PASSIVE_LEVEL);
          },
        },
      },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(seen).toBe(`irql=${DISPATCH_LEVEL} cancelIrql=${PASSIVE_LEVEL} routine=0 cancel=1 held=1`);
  });

  it('C2 and C3 are separate steps: another processor can see Cancel set while the routine is still there', () => {
    const r = explore(preset('dual-opteron-240'), scn<I>({
      setup,
      actors: {
        canceller: { cpu: 0, *run(k, s) { yield* k.IoCancelIrp(s.irp); } },
        watcher: {
          cpu: 1,
          *run(k, s) {
            yield* k.IoSetCancelRoutine(s.irp, R1);
            for (let i = 0; i < 4; i++) {
              if ((yield* k.IrpCancelFlag(s.irp)) && k.peek(s.irp + IRP_CANCEL_ROUTINE) !== 0) yield* k.WriteNoFence(s.flags, 1);
            }
          },
        },
      },
      invariants: { 'never between C2 and C3': (s, k) => k.peek(s.flags) === 0 },
    }), { schedules: 2000 });
    expect(r.failure?.invariant).toBe('never between C2 and C3');
  });
});

describe('IRP completion and its bug checks', () => {
  for (const r of [CHECKED_MP, FREE_MP]) {
    it(`a second completion is MULTIPLE_IRP_COMPLETE_REQUESTS with the IRP in parameter 1 (${r.build})`, () => {
      let irpAddr = 0;
      const x = runOnce(r, scn<I>({
        setup: (k) => { const s = setup(k); irpAddr = s.irp; return s; },
        actors: { t: { *run(k, s) { yield* k.IoCompleteRequest(s.irp); yield* k.IoCompleteRequest(s.irp); } } },
      }));
      expect(x.failure?.bugcheck?.name).toBe('MULTIPLE_IRP_COMPLETE_REQUESTS');
      expect(x.failure?.bugcheck?.params[0]).toBe(irpAddr * 4);
    });

    it(`IoCancelIrp on a completed IRP with a stale cancel routine is CANCEL_STATE_IN_COMPLETED_IRP (${r.build})`, () => {
      const s = scn<I>({
        setup,
        actors: {
          t: {
            *run(k, s) {
              yield* k.IoSetCancelRoutine(s.irp, R1);
              if (!k.checked) yield* k.IoCompleteRequest(s.irp); // checked: Verifier would stop this completion (next test)
              else { yield* k.IoSetCancelRoutine(s.irp, null); yield* k.IoCompleteRequest(s.irp); yield* k.IoSetCancelRoutine(s.irp, R1); }
              yield* k.IoCancelIrp(s.irp);
            },
          },
        },
      });
      const x = runOnce(r, s);
      expect(x.failure?.bugcheck?.name).toBe('CANCEL_STATE_IN_COMPLETED_IRP');
      expect(x.failure?.bugcheck?.params[1]).not.toBe(0);
    });
  }

  it('completion with a cancel routine still set: 0xC9/0x07 on a checked build, silent on a free build', () => {
    const s = scn<I>({ setup, actors: { t: { *run(k, s) { yield* k.IoSetCancelRoutine(s.irp, R1); yield* k.IoCompleteRequest(s.irp); } } } });
    const c = runOnce(CHECKED_MP, s);
    expect(c.failure?.bugcheck?.name).toBe('DRIVER_VERIFIER_IOMANAGER_VIOLATION');
    expect(c.failure?.bugcheck?.params[0]).toBe(7);
    expect(runOnce(FREE_MP, s).outcome).toBe('pass');
  });

  it('completion with STATUS_PENDING is 0xC9/0x06 on a checked build', () => {
    const x = runOnce(CHECKED_MP, scn<I>({
      setup,
      actors: { t: { *run(k, s) { yield* k.IrpSetIoStatus(s.irp, STATUS_PENDING); yield* k.IoCompleteRequest(s.irp); } } },
    }));
    expect(x.failure?.bugcheck?.params[0]).toBe(6);
  });

  it('an IRP marked pending and never completed ends the run as a hang', () => {
    const x = runOnce(FREE_MP, scn<I>({ setup, actors: { t: { *run(k, s) { k.IoMarkIrpPending(s.irp); yield* k.YieldProcessor(); } } } }));
    expect(x.outcome).toBe('hang');
    expect(x.failure?.message).toContain('never completed');
  });

  it('completing a freed IRP is a use-after-free on a checked build (special pool)', () => {
    const x = runOnce(CHECKED_MP, scn<I>({
      setup,
      actors: { t: { *run(k, s) { yield* k.IoCompleteRequest(s.irp); yield* k.IoFreeIrp(s.irp); yield* k.IoCompleteRequest(s.irp); } } },
    }));
    expect(x.failure?.bugcheck?.name).toBe('DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL');
  });
});

describe('cancel spin lock rules', () => {
  const keepsLock: DRIVER_CANCEL = function* KeepsLock(k, irp) {
    yield* k.IrpSetIoStatus(irp, STATUS_CANCELLED, 0);
    yield* k.IoCompleteRequest(irp); // never releases the cancel spin lock
  };
  const s = scn<I & { irp2: number }>({
    setup: (k) => ({ ...setup(k), irp2: k.IoAllocateIrp() }),
    actors: {
      t: {
        *run(k, s) {
          yield* k.IoSetCancelRoutine(s.irp, keepsLock);
          yield* k.IoSetCancelRoutine(s.irp2, keepsLock);
          yield* k.IoCancelIrp(s.irp);
          yield* k.IoCancelIrp(s.irp2);
        },
      },
    },
  });
  it('a routine that returns holding the cancel lock: the next cancel spins forever (free) / SPIN_LOCK_ALREADY_OWNED (checked)', () => {
    expect(runOnce(CHECKED_MP, s).failure?.bugcheck?.name).toBe('SPIN_LOCK_ALREADY_OWNED');
    expect(runOnce(FREE_MP, s).outcome).toBe('hang');
  });

  it('releasing the cancel lock with the wrong IRQL leaves the thread raised: IRQL_GT_ZERO_AT_SYSTEM_SERVICE at return', () => {
    const x = runOnce(FREE_MP, scn<I>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            yield* k.IoSetCancelRoutine(s.irp, function* WrongIrql(kk: Kernel, irp: number) {
              yield* kk.IoReleaseCancelSpinLock(DISPATCH_LEVEL); // its "own" IRQL, not Irp->CancelIrql
              yield* kk.IoCompleteRequest(irp);
            });
            yield* k.IoCancelIrp(s.irp);
          },
        },
      },
    }));
    expect(x.failure?.bugcheck?.name).toBe('IRQL_GT_ZERO_AT_SYSTEM_SERVICE');
  });
});
