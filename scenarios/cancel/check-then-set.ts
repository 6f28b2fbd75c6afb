import { defineScenario, STATUS_CANCELLED, STATUS_PENDING, type Kernel, type Routine } from 'racebox';

// Seed 002, naive variant A of nt-semantics section 15: check Irp->Cancel, then set the routine, then queue.

interface State {
  queue: number;
  queueLock: number;
  irp: number;
  /** The driver's cancel routine, bound to this device extension (made in setup). */
  cancelRoutine: (k: Kernel, irp: number) => Routine<unknown>;
}

function* CancelRoutine(k: Kernel, s: State, irp: number) {
  yield* k.IoReleaseCancelSpinLock(k.IrpCancelIrql(irp));
  const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
  yield* k.RemoveEntryList(k.IrpListEntry(irp));
  yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
  yield* k.IrpSetIoStatus(irp, STATUS_CANCELLED, 0);
  yield* k.IoCompleteRequest(irp);
}

export default defineScenario<State>({
  id: 'cancel/check-then-set',
  version: 2,
  title: 'Irp->Cancel checked before the cancel routine is set',
  family: 'cancel',
  seeds: ['002_ec2c3b643d06aea0'],
  variant: 'buggy',
  pairedWith: 'cancel/manual-protocol',
  description:
    'The dispatch routine first looks at Irp->Cancel; if it is clear, it takes the queue lock, sets the cancel routine ' +
    'and queues the IRP for a device that will take a long time to get to it. The check is made too early: when ' +
    'IoCancelIrp runs between the check and IoSetCancelRoutine, it sets Cancel, finds no cancel routine, and returns ' +
    'FALSE — the cancel request is used up. The IRP then sits in the queue with Cancel set and a cancel routine nobody ' +
    'will ever call. It is never completed: the application cannot close the handle and its thread cannot exit ' +
    '(IoCancelThreadIo waits forever; Driver Verifier reports 0xC4/0x135). The box reports the run as a hang. The fix ' +
    'is to set the routine first and test Cancel afterwards, with the exchange (cancel/manual-protocol).',
  // The cancel routine is made once per device, as DriverEntry would: under free-run each CPU worker
  // makes its own copy and knows it by name, so a routine one CPU set can be called on another.
  setup: (k) => {
    const s: State = {
      queue: k.InitializeListHead(),
      queueLock: k.KeInitializeSpinLock(),
      irp: k.IoAllocateIrp(),
      cancelRoutine: (kk, irp) => CancelRoutine(kk, s, irp),
    };
    return s;
  },
  actors: {
    dispatch: {
      cpu: 0,
      *run(k, s) {
        k.IoMarkIrpPending(s.irp);
        if (yield* k.IrpCancelFlag(s.irp)) {
          yield* k.IrpSetIoStatus(s.irp, STATUS_CANCELLED, 0);
          yield* k.IoCompleteRequest(s.irp);
          return STATUS_PENDING;
        }
        // BUG: IoCancelIrp can run right here, see no cancel routine, and give up.
        const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
        yield* k.IoSetCancelRoutine(s.irp, s.cancelRoutine);
        yield* k.InsertTailList(s.queue, k.IrpListEntry(s.irp));
        yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
        return STATUS_PENDING;
      },
    },
    canceller: {
      cpu: 1,
      *run(k, s) {
        yield* k.IoCancelIrp(s.irp);
      },
    },
  },
  expect: 'hang',
});
