import { defineScenario, STATUS_CANCELLED, STATUS_SUCCESS, STATUS_TIMEOUT, type Kernel } from 'racebox';

// The article's recommendation ("Better Than Chocolate: Cancel-Safe Queues"): let IoCsq* run the cancel protocol.

interface DeviceExtension {
  pendingIrpQueue: number;
  queueLock: number;
  csq: number;
  read1: number;
  read2: number;
  /** IO_CSQ_IRP_CONTEXT of read2, so that its timeout path can pull exactly that IRP. */
  read2Context: number;
  workQueued: number;
}

// The driver's six callbacks. The library calls insert/remove/peek with the queue lock held.
function csqCallbacks(dev: DeviceExtension) {
  return {
    *CsqInsertIrp(k: Kernel, _csq: number, irp: number) {
      yield* k.InsertTailList(dev.pendingIrpQueue, k.IrpListEntry(irp));
    },
    *CsqRemoveIrp(k: Kernel, _csq: number, irp: number) {
      yield* k.RemoveEntryList(k.IrpListEntry(irp));
    },
    *CsqPeekNextIrp(k: Kernel, _csq: number, irp: number, _peekContext: number) {
      const from = irp === 0 ? dev.pendingIrpQueue : k.IrpListEntry(irp);
      const next = (yield* k.ReadNoFence(from)) >>> 2; // from->Flink
      return next === dev.pendingIrpQueue ? 0 : k.IrpFromListEntry(next);
    },
    *CsqAcquireLock(k: Kernel, _csq: number) {
      return yield* k.KeAcquireSpinLock(dev.queueLock);
    },
    *CsqReleaseLock(k: Kernel, _csq: number, irql: number) {
      yield* k.KeReleaseSpinLock(dev.queueLock, irql);
    },
    *CsqCompleteCanceledIrp(k: Kernel, _csq: number, irp: number) {
      yield* k.IrpSetIoStatus(irp, STATUS_CANCELLED, 0);
      yield* k.IoCompleteRequest(irp);
    },
  };
}

export default defineScenario<DeviceExtension>({
  id: 'cancel/csq',
  title: 'Cancel-safe queue (IoCsq*) with a worker, a timeout path and cancellation',
  family: 'cancel',
  seeds: ['002_ec2c3b643d06aea0'],
  variant: 'correct',
  pairedWith: 'cancel/no-exchange-check',
  description:
    'The driver keeps its pending reads in a cancel-safe queue: it supplies the list, the lock and six small callbacks, ' +
    'and IoCsqInsertIrp / IoCsqRemoveNextIrp / IoCsqRemoveIrp do the rest. Two reads are queued (the second with an ' +
    'IO_CSQ_IRP_CONTEXT), the device worker takes the next one, a timeout path pulls the second by its context, and ' +
    'the application cancels both — all at once on different processors. The library inserts before it publishes ' +
    'its cancel routine, re-checks Irp->Cancel with the exchange, and skips IRPs whose cancel routine has been ' +
    'claimed, so every read is completed exactly once on every rig.',
  setup: (k) => {
    const dev: DeviceExtension = {
      pendingIrpQueue: k.InitializeListHead(),
      queueLock: k.KeInitializeSpinLock(),
      csq: 0,
      read1: k.IoAllocateIrp(),
      read2: k.IoAllocateIrp(),
      read2Context: k.ExAllocatePool2(0, 12, 'CsqC'),
      workQueued: k.ExAllocatePool2(0, 4, 'Work'),
    };
    const cb = csqCallbacks(dev);
    dev.csq = k.IoCsqInitialize(null, cb.CsqInsertIrp, cb.CsqRemoveIrp, cb.CsqPeekNextIrp, cb.CsqAcquireLock, cb.CsqReleaseLock, cb.CsqCompleteCanceledIrp);
    return dev;
  },
  actors: {
    dispatch: {
      cpu: 0,
      *run(k, dev) {
        yield* k.IoCsqInsertIrp(dev.csq, dev.read1, null);
        yield* k.IoCsqInsertIrp(dev.csq, dev.read2, dev.read2Context);
        yield* k.WriteNoFence(dev.workQueued, 1);
      },
    },
    worker: {
      cpu: 1,
      *run(k, dev) {
        while ((yield* k.ReadNoFence(dev.workQueued)) === 0) yield* k.YieldProcessor();
        const irp = yield* k.IoCsqRemoveNextIrp(dev.csq, 0);
        if (irp !== 0) {
          yield* k.IrpSetIoStatus(irp, STATUS_SUCCESS, 512);
          yield* k.IoCompleteRequest(irp);
        }
      },
    },
    readTimeout: {
      cpu: 2,
      *run(k, dev) {
        const irp = yield* k.IoCsqRemoveIrp(dev.csq, dev.read2Context);
        if (irp !== 0) {
          yield* k.IrpSetIoStatus(irp, STATUS_TIMEOUT, 0);
          yield* k.IoCompleteRequest(irp);
        }
      },
    },
    application: {
      cpu: 3,
      *run(k, dev) {
        yield* k.IoCancelIrp(dev.read1);
        yield* k.IoCancelIrp(dev.read2);
      },
    },
  },
  expect: 'pass',
});
