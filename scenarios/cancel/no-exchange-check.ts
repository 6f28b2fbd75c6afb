import { defineScenario, STATUS_CANCELLED, STATUS_PENDING, type Kernel, type Routine } from 'racebox';

// Seed 002 ("How The Race Was Lost"), naive variant C of nt-semantics section 15.

interface State {
  queue: number;
  queueLock: number;
  irp: number;
  /** The driver's cancel routine, bound to this device extension (made in setup). */
  cancelRoutine: (k: Kernel, irp: number) => Routine<unknown>;
}

// Called by IoCancelIrp at DISPATCH_LEVEL with the cancel spin lock held.
function* CancelRoutine(k: Kernel, s: State, irp: number) {
  yield* k.IoReleaseCancelSpinLock(k.IrpCancelIrql(irp));
  const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
  yield* k.RemoveEntryList(k.IrpListEntry(irp));
  yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
  yield* k.IrpSetIoStatus(irp, STATUS_CANCELLED, 0);
  yield* k.IoCompleteRequest(irp);
}

export default defineScenario<State>({
  id: 'cancel/no-exchange-check',
  version: 2,
  title: 'Cancelled IRP completed without checking what IoSetCancelRoutine returned',
  family: 'cancel',
  seeds: ['002_ec2c3b643d06aea0'],
  variant: 'buggy',
  pairedWith: 'cancel/manual-protocol',
  description:
    'The dispatch routine queues the IRP under its queue lock, sets the cancel routine, and then checks Irp->Cancel. ' +
    'If the IRP was cancelled it calls IoSetCancelRoutine(Irp, NULL), unlinks the IRP (re-initializing its list entry, ' +
    'so a second RemoveEntryList is harmless) and completes it as STATUS_CANCELLED — but it ignores what ' +
    'IoSetCancelRoutine returned. When IoCancelIrp on the other processor has already exchanged the routine out, the ' +
    'cancel routine is running and is only waiting for the queue lock: both paths complete the same IRP, and the ' +
    'second IoCompleteRequest stops the machine with MULTIPLE_IRP_COMPLETE_REQUESTS (0x44). On a single processor the ' +
    'window never opens: from the insert to the Cancel check the dispatch routine holds its spin lock at DISPATCH_LEVEL, ' +
    'so the canceller cannot run in between — the bug needs a second CPU (or a hyper-threaded one). The fix: complete only ' +
    'if IoSetCancelRoutine(Irp, NULL) returns non-NULL; otherwise leave the IRP to the cancel routine.',
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
    // IRP_MJ_READ dispatch: a thread at PASSIVE_LEVEL.
    dispatch: {
      cpu: 0,
      *run(k, s) {
        k.IoMarkIrpPending(s.irp);
        const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
        yield* k.InsertTailList(s.queue, k.IrpListEntry(s.irp));
        yield* k.IoSetCancelRoutine(s.irp, s.cancelRoutine);
        if (yield* k.IrpCancelFlag(s.irp)) {
          yield* k.IoSetCancelRoutine(s.irp, null); // BUG: the result says whether the cancel routine already owns the IRP
          yield* k.RemoveEntryList(k.IrpListEntry(s.irp));
          k.InitializeListHead(k.IrpListEntry(s.irp));
          yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
          yield* k.IrpSetIoStatus(s.irp, STATUS_CANCELLED, 0);
          yield* k.IoCompleteRequest(s.irp);
          return STATUS_PENDING;
        }
        yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
        return STATUS_PENDING;
      },
    },
    // Someone above gives up on the request (CancelIo, thread exit): on CPU 1, or a preemption on one CPU.
    canceller: {
      cpu: 1,
      *run(k, s) {
        yield* k.IoCancelIrp(s.irp);
      },
    },
  },
  expect: [
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { outcome: { bugcheck: 'MULTIPLE_IRP_COMPLETE_REQUESTS' } },
  ],
});
