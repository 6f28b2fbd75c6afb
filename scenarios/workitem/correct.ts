import { DelayedWorkQueue, defineScenario, Executive, KernelMode, NotificationEvent, POOL_FLAG_NON_PAGED, type Kernel, type Routine } from 'racebox';

// WDK "System Worker Threads": DriverUnload waits until a queued work item has run before it frees what the routine
// uses; IoQueueWorkItem's reference on the device object keeps the image loaded while the routine returns.

const CONTEXT_SIGNATURE = 0x46534c46; // 'FLSF'

// Flush context layout (words): ULONG Signature, ULONG PendingBytes, KEVENT FlushDone.
const CTX_SIGNATURE = 0;
const CTX_FLUSH_DONE = 2;
const CTX_BYTES = 32;

interface DriverGlobals {
  deviceObject: number;
  workItem: number;
  flushContext: number;
  flushDone: number;
  queued: number;
  seen: number;
  /** The driver's IO_WORKITEM_ROUTINE. */
  flushWorkItem: (k: Kernel, deviceObject: number, context: number) => Routine<void>;
}


/** The flush work item (IO_WORKITEM_ROUTINE): writes back the pending data, then says it is done. */
function* FlushWork(k: Kernel, _deviceObject: number, flushContext: number, seen: number) {
  const signature = yield* k.ReadNoFence(flushContext + CTX_SIGNATURE);
  yield* k.WriteNoFence(seen, signature);
  // Last touch of the context: after this DriverUnload may free it.
  yield* k.KeSetEvent(flushContext + CTX_FLUSH_DONE, 0, false);
}

export default defineScenario<DriverGlobals>({
  id: 'workitem/correct',
  title: 'DriverUnload waits for the queued work item before freeing its context',
  family: 'workitem',
  variant: 'correct',
  pairedWith: 'workitem/unload-while-queued',
  description:
    'The same driver as workitem/unload-while-queued: an IOCTL queues a flush work item whose context is a pool ' +
    'allocation. The work routine signals a FlushDone event in the context as its last access to it, and DriverUnload ' +
    'waits on that event before it calls IoFreeWorkItem and frees the context. The routine may still be returning ' +
    'when DriverUnload returns — that is safe, because IoQueueWorkItem holds a reference on the device object until ' +
    'the routine has returned, so the driver image is unloaded only then. Whichever processor the system worker ' +
    'thread runs on and whenever it picks the item up, nothing touches freed memory.',
  setup: (k) => {
    const deviceObject = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'DevO');
    const flushContext = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, CTX_BYTES, 'Flsh');
    k.poke(flushContext + CTX_SIGNATURE, CONTEXT_SIGNATURE);
    const flushDone = k.name(k.KeInitializeEvent(NotificationEvent, false, flushContext + CTX_FLUSH_DONE), 'FlushDone');
    const workItem = k.name(k.IoAllocateWorkItem(deviceObject), 'FlushWorkItem');
    const queued = k.name(k.KeInitializeEvent(NotificationEvent, false), 'FlushQueued');
    const seen = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen');
    // The work routine, made here so that it knows where the test harness logs what it read.
    const flushWorkItem = function* FlushWorkItem(kk: Kernel, deviceObject: number, flushContext: number): Routine<void> {
      yield* FlushWork(kk, deviceObject, flushContext, seen);
    };
    return { deviceObject, workItem, flushContext, flushDone, queued, seen, flushWorkItem };
  },
  actors: {
    dispatchIoctl: {
      cpu: 0,
      *run(k, s) {
        yield* k.IoQueueWorkItem(s.workItem, s.flushWorkItem, DelayedWorkQueue, s.flushContext);
        yield* k.KeSetEvent(s.queued, 0, false);
      },
    },
    driverUnload: {
      cpu: 1,
      unload: true,
      *run(k, s) {
        yield* k.KeWaitForSingleObject(s.queued, Executive, KernelMode, false, null);
        yield* k.KeWaitForSingleObject(s.flushDone, Executive, KernelMode, false, null);
        yield* k.IoFreeWorkItem(s.workItem);
        yield* k.ExFreePoolWithTag(s.flushContext, 'Flsh');
      },
    },
  },
  invariants: {
    'context alive': (s, k) => {
      const v = k.peek(s.seen);
      return v === CONTEXT_SIGNATURE || `the flush work item read 0x${(v >>> 0).toString(16)} from its context`;
    },
  },
  expect: 'pass',
});
