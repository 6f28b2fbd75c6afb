import { DelayedWorkQueue, defineScenario, Executive, KernelMode, NotificationEvent, POOL_FLAG_NON_PAGED, type Kernel, type Routine } from 'racebox';

// WDK "System Worker Threads": IoQueueWorkItem keeps the device object — and so the driver image — alive until the
// work item's routine returns, but nothing protects the driver's own allocations: DriverUnload must wait for a
// queued work item before it frees what the routine uses (and may free the IO_WORKITEM only once it is not queued).

const CONTEXT_SIGNATURE = 0x46534c46; // 'FLSF'

// Flush context layout (words): ULONG Signature, ULONG PendingBytes.
const CTX_SIGNATURE = 0;
const CTX_BYTES = 16;

interface DriverGlobals {
  deviceObject: number;
  workItem: number;
  flushContext: number;
  queued: number;
  /** Test harness: the signature the work routine read from its context (0: it has not run). */
  seen: number;
  /** The driver's IO_WORKITEM_ROUTINE. */
  flushWorkItem: (k: Kernel, deviceObject: number, context: number) => Routine<void>;
}

/** The flush work item (IO_WORKITEM_ROUTINE): runs at PASSIVE_LEVEL and writes back the pending data. */
function* FlushWork(k: Kernel, _deviceObject: number, flushContext: number, seen: number) {
  const signature = yield* k.ReadNoFence(flushContext + CTX_SIGNATURE);
  yield* k.WriteNoFence(seen, signature);
}


export default defineScenario<DriverGlobals>({
  id: 'workitem/unload-while-queued',
  title: 'DriverUnload frees the flush context and the work item while the work item is still queued',
  family: 'workitem',
  variant: 'buggy',
  pairedWith: 'workitem/correct',
  description:
    'An IOCTL queues a work item (IoQueueWorkItem, DelayedWorkQueue) to write back pending data at PASSIVE_LEVEL; its ' +
    'context is a flush context the driver allocated from non-paged pool. DriverUnload assumes the work item has long ' +
    'run: it calls IoFreeWorkItem and frees the flush context straight away. The I/O manager\'s reference keeps the ' +
    'driver image loaded until the routine returns, but not the driver\'s pool: when the system worker thread picks ' +
    'the item up after DriverUnload, it reads a freed IO_WORKITEM, and the routine reads a freed context. Under Driver ' +
    'Verifier\'s special pool (checked rigs) that stops the machine at the access: DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL ' +
    '(0xD5). On a free build the routine works on freed memory, which the "context alive" check catches. The fix is ' +
    'to wait for the work item (an event its routine signals last) before freeing anything (workitem/correct).',
  setup: (k) => {
    const deviceObject = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'DevO');
    const flushContext = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, CTX_BYTES, 'Flsh');
    k.poke(flushContext + CTX_SIGNATURE, CONTEXT_SIGNATURE);
    const workItem = k.name(k.IoAllocateWorkItem(deviceObject), 'FlushWorkItem');
    const queued = k.name(k.KeInitializeEvent(NotificationEvent, false), 'FlushQueued');
    const seen = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen');
    // The work routine, made here so that it knows where the test harness logs what it read.
    const flushWorkItem = function* FlushWorkItem(kk: Kernel, deviceObject: number, flushContext: number): Routine<void> {
      yield* FlushWork(kk, deviceObject, flushContext, seen);
    };
    return { deviceObject, workItem, flushContext, queued, seen, flushWorkItem };
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
        // Unload comes after the IOCTL that queued the flush.
        yield* k.KeWaitForSingleObject(s.queued, Executive, KernelMode, false, null);
        // BUG: the work item may not have run yet.
        yield* k.IoFreeWorkItem(s.workItem);
        yield* k.ExFreePoolWithTag(s.flushContext, 'Flsh');
      },
    },
  },
  invariants: {
    'context alive': (s, k) => {
      const v = k.peek(s.seen);
      return v === 0 || v === CONTEXT_SIGNATURE || `the flush work item read 0x${(v >>> 0).toString(16)} from its context after DriverUnload freed it`;
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'context alive' } },
  ],
});
