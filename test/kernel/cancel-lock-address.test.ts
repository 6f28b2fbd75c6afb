import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { CHECKED_MP, FREE_MP, scn } from '../helpers.ts';

/** The cancel spin lock's address is available to scenarios, for checks that a routine runs holding it. */
describe('k.cancelSpinLock() and k.holdsLock', () => {
  it('IoAcquireCancelSpinLock takes the lock whose address setup got; holdsLock tells the holder from the others', () => {
    const s = scn<{ cancelLock: number; seen: string[] }>({
      setup: (k) => ({ cancelLock: k.cancelSpinLock(), seen: [] }),
      actors: {
        holder: {
          cpu: 0,
          *run(k, s) {
            const irql = yield* k.IoAcquireCancelSpinLock();
            s.seen.push(`holder: ${k.holdsLock(s.cancelLock)} ${k.peek(s.cancelLock) !== 0}`);
            yield* k.IoReleaseCancelSpinLock(irql);
            s.seen.push(`holder after release: ${k.holdsLock(s.cancelLock)}`);
          },
        },
        other: { cpu: 1, *run(k, s) { s.seen.push(`other: ${k.holdsLock(s.cancelLock)}`); yield* k.YieldProcessor(); } },
      },
      invariants: {
        seen: (s) => ['holder: true true', 'holder after release: false', 'other: false'].every((x) => s.seen.includes(x)) || s.seen.join('; '),
      },
    });
    for (const rig of [CHECKED_MP, FREE_MP]) {
      const r = explore(rig, s, { strategy: 'random', schedules: 5 });
      expect(r.outcome === 'pass' ? 'pass' : r.failure?.message).toBe('pass');
    }
  });

  it('IoCancelIrp calls the cancel routine holding it; an NT_ASSERT on it holds there and fails elsewhere', () => {
    const s = scn<{ irp: number; cancelLock: number; seen: boolean[] }>({
      setup: (k) => ({ irp: k.IoAllocateIrp(), cancelLock: k.cancelSpinLock(), seen: [] }),
      actors: {
        dispatch: {
          *run(k, s) {
            k.IoMarkIrpPending(s.irp);
            yield* k.IoSetCancelRoutine(s.irp, function* CancelRoutine(k2, irp) {
              k2.NT_ASSERT(k2.holdsLock(s.cancelLock), 'the cancel routine runs holding the cancel spin lock');
              s.seen.push(k2.holdsLock(s.cancelLock), (yield* k2.KeTestSpinLock(s.cancelLock)) === false);
              yield* k2.IoReleaseCancelSpinLock(k2.IrpCancelIrql(irp));
              s.seen.push(k2.holdsLock(s.cancelLock));
              yield* k2.IoCompleteRequest(irp);
            });
            yield* k.IoCancelIrp(s.irp);
            k.NT_ASSERT(k.holdsLock(s.cancelLock), 'dispatch holds the cancel spin lock');
          },
        },
      },
      invariants: { seen: (s) => s.seen.join() === 'true,true,false' || s.seen.join() },
    });
    const r = explore(CHECKED_MP, s, { schedules: 1 });
    expect(r.outcome).toBe('invariant');
    expect(r.failure?.message).toMatch(/dispatch holds the cancel spin lock/);
  });
});
