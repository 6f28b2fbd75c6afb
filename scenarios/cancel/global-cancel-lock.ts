import { defineScenario, STATUS_CANCELLED, STATUS_PENDING, STATUS_SUCCESS, type Kernel, type Routine } from 'racebox';

// The old (NT4/DDK StartIo-era) protocol: the driver's queue is protected by the system-wide cancel spin lock.

interface State {
  queue: number;
  irp: number;
  workQueued: number;
  /** The driver's cancel routine, bound to this device extension (made in setup). */
  cancelRoutine: (k: Kernel, irp: number) => Routine<unknown>;
}

// Entered holding the cancel spin lock, which also protects the queue: unlink first, then release, then complete.
function* CancelRoutine(k: Kernel, _s: State, irp: number) {
  yield* k.RemoveEntryList(k.IrpListEntry(irp));
  yield* k.IoReleaseCancelSpinLock(k.IrpCancelIrql(irp));
  yield* k.IrpSetIoStatus(irp, STATUS_CANCELLED, 0);
  yield* k.IoCompleteRequest(irp);
}

export default defineScenario<State>({
  id: 'cancel/global-cancel-lock',
  version: 2,
  title: 'IRP queue protected by the global cancel spin lock',
  family: 'cancel',
  seeds: ['002_ec2c3b643d06aea0'],
  variant: 'correct',
  pairedWith: 'cancel/check-then-set',
  description:
    '"Why not just call IoAcquireCancelSpinLock() and IoReleaseCancelSpinLock()?" The driver guards its queue with the ' +
    'cancel spin lock itself. The dispatch routine takes it, completes the IRP at once if Irp->Cancel is already set, ' +
    'and otherwise sets the cancel routine and queues the IRP before releasing. Since IoCancelIrp holds the same lock ' +
    'from setting Cancel until the cancel routine releases it, the check, the set and the insert are atomic with ' +
    'respect to cancellation; the cancel routine unlinks the IRP before releasing the lock, and the worker clears the ' +
    'cancel routine while it holds the lock. Correct on every rig — but the cancel lock is the hottest lock in the ' +
    'system, which is why the article recommends a driver-owned lock or a cancel-safe queue instead.',
  // The cancel routine is made once per device, as DriverEntry would: under free-run each CPU worker
  // makes its own copy and knows it by name, so a routine one CPU set can be called on another.
  setup: (k) => {
    const s: State = {
      queue: k.InitializeListHead(),
      irp: k.IoAllocateIrp(),
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
        const irql = yield* k.IoAcquireCancelSpinLock();
        if (yield* k.IrpCancelFlag(s.irp)) {
          yield* k.IoReleaseCancelSpinLock(irql);
          yield* k.IrpSetIoStatus(s.irp, STATUS_CANCELLED, 0);
          yield* k.IoCompleteRequest(s.irp);
          yield* k.WriteNoFence(s.workQueued, 1);
          return STATUS_PENDING;
        }
        yield* k.IoSetCancelRoutine(s.irp, s.cancelRoutine);
        yield* k.InsertTailList(s.queue, k.IrpListEntry(s.irp));
        yield* k.IoReleaseCancelSpinLock(irql);
        yield* k.WriteNoFence(s.workQueued, 1);
        return STATUS_PENDING;
      },
    },
    // StartIo-style worker: dequeue under the cancel lock, taking the IRP out of cancelable state.
    worker: {
      cpu: 2,
      *run(k, s) {
        while ((yield* k.ReadNoFence(s.workQueued)) === 0) yield* k.YieldProcessor();
        const irql = yield* k.IoAcquireCancelSpinLock();
        let irp = 0;
        if (!(yield* k.IsListEmpty(s.queue))) {
          irp = k.IrpFromListEntry(yield* k.RemoveHeadList(s.queue));
          yield* k.IoSetCancelRoutine(irp, null);
        }
        yield* k.IoReleaseCancelSpinLock(irql);
        if (irp !== 0) {
          yield* k.IrpSetIoStatus(irp, STATUS_SUCCESS, 512);
          yield* k.IoCompleteRequest(irp);
        }
      },
    },
    canceller: {
      cpu: 1,
      *run(k, s) {
        yield* k.IoCancelIrp(s.irp);
      },
    },
  },
  expect: 'pass',
});
