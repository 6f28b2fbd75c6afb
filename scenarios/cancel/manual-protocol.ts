import { defineScenario, STATUS_CANCELLED, STATUS_PENDING, STATUS_SUCCESS, type Kernel, type Routine } from 'racebox';

// The correct manual protocol of nt-semantics section 15, for a driver-owned queue protected by its own lock.

interface State {
  queue: number;
  queueLock: number;
  irp: number;
  /** The driver's cancel routine, bound to this device extension (made in setup). */
  cancelRoutine: (k: Kernel, irp: number) => Routine<unknown>;
}

// Entered at DISPATCH_LEVEL holding the cancel spin lock. The insert protocol guarantees the IRP is linked.
function* CancelRoutine(k: Kernel, s: State, irp: number) {
  yield* k.IoReleaseCancelSpinLock(k.IrpCancelIrql(irp));
  const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
  yield* k.RemoveEntryList(k.IrpListEntry(irp));
  yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
  yield* k.IrpSetIoStatus(irp, STATUS_CANCELLED, 0);
  yield* k.IoCompleteRequest(irp);
}

// Dequeue: the first IRP whose cancelability we can take back; skip the ones cancellation owns.
function* DequeueIrp(k: Kernel, s: State) {
  const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
  let found = 0;
  let e: number;
  for (e = yield* k.ReadNoFence(s.queue); (e >>> 2) !== s.queue; e = yield* k.ReadNoFence(e >>> 2)) {
    const irp = k.IrpFromListEntry(e >>> 2);
    if ((yield* k.IoSetCancelRoutine(irp, null)) !== null) {
      yield* k.RemoveEntryList(e >>> 2);
      found = irp;
      break;
    }
  }
  yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
  return found;
}

export default defineScenario<State>({
  id: 'cancel/manual-protocol',
  version: 2,
  title: 'Driver-owned IRP queue with the documented cancel protocol',
  family: 'cancel',
  seeds: ['002_ec2c3b643d06aea0'],
  variant: 'correct',
  pairedWith: 'cancel/no-exchange-check',
  description:
    'The dispatch routine marks the IRP pending, queues it under its own queue lock and only then sets the cancel ' +
    'routine. If Irp->Cancel is already set it completes the IRP itself — but only when IoSetCancelRoutine(Irp, NULL) ' +
    'hands the routine back; a NULL return means IoCancelIrp claimed it and the cancel routine (now waiting for the ' +
    'queue lock) will unlink and complete the IRP. The consumer (the StartIo-like worker) takes cancelability back the ' +
    'same way under the queue lock and skips IRPs the cancel routine owns. The cancel routine releases the cancel spin ' +
    'lock first, unlinks under the queue lock, and completes outside every lock. Whatever the interleaving, the IRP is ' +
    'completed exactly once.',
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
        const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
        yield* k.InsertTailList(s.queue, k.IrpListEntry(s.irp));
        yield* k.IoSetCancelRoutine(s.irp, s.cancelRoutine);
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
    // The device is ready for the next request: dequeue and complete it.
    consumer: {
      cpu: 2,
      *run(k, s) {
        const irp = yield* DequeueIrp(k, s);
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
