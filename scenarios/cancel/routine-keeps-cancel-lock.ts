import { defineScenario, STATUS_CANCELLED, STATUS_PENDING, type Kernel, type Routine } from 'racebox';

// Naive variant E of nt-semantics section 15: the cancel routine never releases the cancel spin lock.

interface State {
  queue: number;
  queueLock: number;
  read1: number;
  read2: number;
  /** Requests the dispatch routine has returned STATUS_PENDING for. */
  pendingCount: number;
  /** The driver's cancel routine, bound to this device extension (made in setup). */
  cancelRoutine: (k: Kernel, irp: number) => Routine<unknown>;
}

// BUG: no IoReleaseCancelSpinLock(Irp->CancelIrql) — the routine returns still holding the system-wide cancel lock.
function* CancelRoutine(k: Kernel, s: State, irp: number) {
  yield* k.KeAcquireSpinLockAtDpcLevel(s.queueLock);
  yield* k.RemoveEntryList(k.IrpListEntry(irp));
  yield* k.KeReleaseSpinLockFromDpcLevel(s.queueLock);
  yield* k.IrpSetIoStatus(irp, STATUS_CANCELLED, 0);
  yield* k.IoCompleteRequest(irp);
}

function* QueueIrp(k: Kernel, s: State, irp: number) {
  k.IoMarkIrpPending(irp);
  const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
  yield* k.InsertTailList(s.queue, k.IrpListEntry(irp));
  yield* k.IoSetCancelRoutine(irp, s.cancelRoutine);
  if ((yield* k.IrpCancelFlag(irp)) && (yield* k.IoSetCancelRoutine(irp, null)) !== null) {
    yield* k.RemoveEntryList(k.IrpListEntry(irp));
    yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
    yield* k.IrpSetIoStatus(irp, STATUS_CANCELLED, 0);
    yield* k.IoCompleteRequest(irp);
  } else {
    yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
  }
  yield* k.InterlockedIncrement(s.pendingCount);
  return STATUS_PENDING;
}

export default defineScenario<State>({
  id: 'cancel/routine-keeps-cancel-lock',
  version: 2,
  title: 'Cancel routine returns without releasing the cancel spin lock',
  family: 'cancel',
  seeds: ['002_ec2c3b643d06aea0'],
  variant: 'buggy',
  pairedWith: 'cancel/manual-protocol',
  description:
    'IoCancelIrp calls the cancel routine at DISPATCH_LEVEL holding the system-wide cancel spin lock, and the routine ' +
    'must release it first with IoReleaseCancelSpinLock(Irp->CancelIrql). This one forgets: it unlinks and completes ' +
    'the IRP and returns with the cancel lock still held and the processor still at DISPATCH_LEVEL. The application ' +
    'then exits and the I/O manager cancels its second pending read: that IoCancelIrp needs the cancel lock again. On a ' +
    'free build the processor spins on it forever — and so would every other cancel in the system: the machine hangs ' +
    '(DPC_WATCHDOG_VIOLATION in the field). A checked build sees the same processor acquiring a spin lock it already ' +
    'holds and stops with SPIN_LOCK_ALREADY_OWNED (0x0F).',
  // The cancel routine is made once per device, as DriverEntry would: under free-run each CPU worker
  // makes its own copy and knows it by name, so a routine one CPU set can be called on another.
  setup: (k) => {
    const s: State = {
      queue: k.InitializeListHead(),
      queueLock: k.KeInitializeSpinLock(),
      read1: k.IoAllocateIrp(),
      read2: k.IoAllocateIrp(),
      pendingCount: k.ExAllocatePool2(0, 4, 'Pend'),
      cancelRoutine: (kk, irp) => CancelRoutine(kk, s, irp),
    };
    return s;
  },
  actors: {
    dispatch: {
      cpu: 0,
      *run(k, s) {
        yield* QueueIrp(k, s, s.read1);
        yield* QueueIrp(k, s, s.read2);
      },
    },
    // The thread exits with two reads pending: IoCancelThreadIo cancels each of them.
    threadExit: {
      cpu: 1,
      *run(k, s) {
        while ((yield* k.ReadNoFence(s.pendingCount)) !== 2) yield* k.YieldProcessor();
        yield* k.IoCancelIrp(s.read1);
        yield* k.IoCancelIrp(s.read2);
      },
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'SPIN_LOCK_ALREADY_OWNED' } },
    { outcome: 'hang' },
  ],
});
