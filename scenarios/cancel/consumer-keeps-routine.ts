import { defineScenario, STATUS_CANCELLED, STATUS_PENDING, STATUS_SUCCESS, type Kernel, type Routine } from 'racebox';

// Seed 002, naive variant D of nt-semantics section 15: the consumer dequeues without taking back cancelability.

interface State {
  queue: number;
  queueLock: number;
  irp: number;
  /** The dispatch routine's "work queued" doorbell for the worker. */
  workQueued: number;
  /** Set by the worker once it has finished with the request. */
  transferDone: number;
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
  id: 'cancel/consumer-keeps-routine',
  version: 2,
  title: 'Consumer completes a dequeued IRP without clearing its cancel routine',
  family: 'cancel',
  seeds: ['002_ec2c3b643d06aea0'],
  variant: 'buggy',
  pairedWith: 'cancel/manual-protocol',
  description:
    '"If you queue the IRP first and then set the cancel routine, your dequeuing thread might dequeue the IRP and ' +
    'complete it ... and the IO manager savagely rips your IRP out from under you." The dispatch routine queues the ' +
    'IRP correctly, but the worker that services the queue just takes the head entry under the queue lock and ' +
    'completes it — it never calls IoSetCancelRoutine(Irp, NULL). The IRP is completed while still cancelable. ' +
    'With Driver Verifier (checked rigs) that completion stops at once: DRIVER_VERIFIER_IOMANAGER_VIOLATION 0xC9/0x07. ' +
    'On a free build it goes through; when the request\'s timeout fires a moment later (before the I/O manager has ' +
    'retired the IRP), IoCancelIrp finds the stale cancel routine on a completed IRP: CANCEL_STATE_IN_COMPLETED_IRP ' +
    '(0x48). Had the cancel come a little earlier, its cancel routine would have unlinked an IRP the worker had ' +
    'already dequeued (0x139/3) and completed it a second time (0x44). The fix: dequeue only IRPs for which ' +
    'IoSetCancelRoutine(Irp, NULL) returns non-NULL (cancel/manual-protocol).',
  // The cancel routine is made once per device, as DriverEntry would: under free-run each CPU worker
  // makes its own copy and knows it by name, so a routine one CPU set can be called on another.
  setup: (k) => {
    const s: State = {
      queue: k.InitializeListHead(),
      queueLock: k.KeInitializeSpinLock(),
      irp: k.IoAllocateIrp(),
      transferDone: k.ExAllocatePool2(0, 4, 'Done'),
      workQueued: k.ExAllocatePool2(0, 4, 'Work'),
      cancelRoutine: (kk, irp) => CancelRoutine(kk, s, irp),
    };
    return s;
  },
  actors: {
    dispatch: {
      cpu: 0,
      *run(k, s) {
        k.IoMarkIrpPending(s.irp);
        const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
        yield* k.InsertTailList(s.queue, k.IrpListEntry(s.irp));
        yield* k.IoSetCancelRoutine(s.irp, s.cancelRoutine);
        if ((yield* k.IrpCancelFlag(s.irp)) && (yield* k.IoSetCancelRoutine(s.irp, null)) !== null) {
          yield* k.RemoveEntryList(k.IrpListEntry(s.irp));
          yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
          yield* k.IrpSetIoStatus(s.irp, STATUS_CANCELLED, 0);
          yield* k.IoCompleteRequest(s.irp);
        } else {
          yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
        }
        yield* k.WriteNoFence(s.workQueued, 1);
        return STATUS_PENDING;
      },
    },
    // The worker that services the device queue.
    consumer: {
      cpu: 1,
      *run(k, s) {
        while ((yield* k.ReadNoFence(s.workQueued)) === 0) yield* k.YieldProcessor();
        const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
        let irp = 0;
        if (!(yield* k.IsListEmpty(s.queue))) irp = k.IrpFromListEntry(yield* k.RemoveHeadList(s.queue));
        // BUG: no IoSetCancelRoutine(irp, NULL) — the IRP is still cancelable.
        yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
        if (irp !== 0) {
          yield* k.IrpSetIoStatus(irp, STATUS_SUCCESS, 512);
          yield* k.IoCompleteRequest(irp);
          yield* k.WriteNoFence(s.transferDone, 1);
        }
      },
    },
    // The request's timeout fires just as the worker finishes it: the I/O manager has not yet run the
    // completion APC that takes the IRP off the thread's list, so IoCancelIrp still reaches it.
    requestTimeout: {
      cpu: 2,
      *run(k, s) {
        while ((yield* k.ReadNoFence(s.transferDone)) === 0) yield* k.YieldProcessor();
        yield* k.IoCancelIrp(s.irp);
      },
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_VERIFIER_IOMANAGER_VIOLATION', subcode: 7 } },
    { outcome: { bugcheck: 'CANCEL_STATE_IN_COMPLETED_IRP' } },
  ],
});
