import { defineScenario, STATUS_CANCELLED, STATUS_PENDING, type Kernel, type Routine } from 'racebox';

// Seed 002, naive variant B of nt-semantics section 15: the cancel routine is published before the IRP is queued.

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
  id: 'cancel/set-then-queue',
  version: 2,
  title: 'Cancel routine set before the IRP is in the queue',
  family: 'cancel',
  seeds: ['002_ec2c3b643d06aea0'],
  variant: 'buggy',
  pairedWith: 'cancel/manual-protocol',
  description:
    '"If you set the cancel routine first, the IO manager might call the routine before you queue the IRP." The ' +
    'dispatch routine calls IoSetCancelRoutine and only then takes the queue lock and inserts the IRP (it does re-check ' +
    'Irp->Cancel correctly afterwards). IoCancelIrp on another processor can claim the routine in between; the cancel ' +
    'routine takes the queue lock first and unlinks an IRP that is not in the queue. Its Tail.Overlay.ListEntry is ' +
    'still zero as IoAllocateIrp left it, so RemoveEntryList follows a NULL Flink while holding a spin lock: ' +
    'DRIVER_IRQL_NOT_LESS_OR_EQUAL (0xD1). (With stale rather than NULL links the list check would have stopped it ' +
    'with KERNEL_SECURITY_CHECK_FAILURE 0x139/3; if the IRP survived, the dispatch routine would then queue an IRP ' +
    'that is already completed.) The fix: insert under the lock first, then set the routine.',
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
        yield* k.IoSetCancelRoutine(s.irp, s.cancelRoutine); // BUG: published before the IRP is queued
        const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
        yield* k.InsertTailList(s.queue, k.IrpListEntry(s.irp));
        if ((yield* k.IrpCancelFlag(s.irp)) && (yield* k.IoSetCancelRoutine(s.irp, null)) !== null) {
          yield* k.RemoveEntryList(k.IrpListEntry(s.irp));
          yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
          yield* k.IrpSetIoStatus(s.irp, STATUS_CANCELLED, 0);
          yield* k.IoCompleteRequest(s.irp);
          return STATUS_PENDING;
        }
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
  expect: { bugcheck: 'DRIVER_IRQL_NOT_LESS_OR_EQUAL' },
});
