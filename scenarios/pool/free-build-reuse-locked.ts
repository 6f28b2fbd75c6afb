import { defineScenario, POOL_FLAG_NON_PAGED, STATUS_PENDING, STATUS_SUCCESS, type Kernel } from 'racebox';

// The completion DPC and the cancel path both take the device lock around CurrentRequest.

const CTX_MAGIC = 0;
const CTX_STATUS = 1;
const CTX_BYTES = 16;
const REQUEST_MAGIC = 0x52657131;

interface DeviceExtension {
  current: number;
  next: number;
  lock: number;
}

function* StartRequest(k: Kernel, s: DeviceExtension, status: number) {
  const ctx = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, CTX_BYTES, 'ReqC');
  yield* k.WriteNoFence(ctx + CTX_MAGIC, REQUEST_MAGIC);
  yield* k.WriteNoFence(ctx + CTX_STATUS, status);
  return ctx;
}

export default defineScenario<DeviceExtension>({
  id: 'pool/free-build-reuse-locked',
  title: 'Completion DPC and cancel path share the device lock around the request context',
  family: 'pool',
  variant: 'correct',
  pairedWith: 'pool/free-build-reuse',
  description:
    'The same driver as pool/free-build-reuse, with the device spin lock held by the completion DPC from reading ' +
    'CurrentRequest until its status write is done, and by the cancel path while it takes and clears CurrentRequest. ' +
    'The cancel path frees the context only after it dropped the lock, when no DPC can still be holding the pointer, ' +
    'so the block the next request gets back from pool is never written by the old completion — on a checked build ' +
    'special pool sees no access to freed memory, and on a free build the reused block stays the new request\'s own.',
  setup: (k) => {
    const ext = k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'DevX'), 'CurrentRequest');
    const first = k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, CTX_BYTES, 'ReqC'), 'RequestContext');
    k.poke(first + CTX_MAGIC, REQUEST_MAGIC);
    k.poke(first + CTX_STATUS, STATUS_PENDING);
    k.poke(ext, first * 4);
    return {
      current: ext,
      next: k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Next'), 'NextRequest'),
      lock: k.name(k.KeInitializeSpinLock(), 'DeviceLock'),
    };
  },
  actors: {
    completionDpc: {
      kind: 'dpc',
      cpu: 1,
      *run(k, s) {
        yield* k.KeAcquireSpinLockAtDpcLevel(s.lock);
        const ctx = (yield* k.ReadNoFence(s.current)) >>> 2;
        if (ctx !== 0) yield* k.WriteNoFence(ctx + CTX_STATUS, STATUS_SUCCESS);
        yield* k.KeReleaseSpinLockFromDpcLevel(s.lock);
      },
    },
    cancel: {
      cpu: 0,
      *run(k, s) {
        const old = yield* k.KeAcquireSpinLock(s.lock);
        const ctx = (yield* k.ReadNoFence(s.current)) >>> 2;
        yield* k.WriteNoFence(s.current, 0);
        yield* k.KeReleaseSpinLock(s.lock, old);
        if (ctx === 0) return;
        yield* k.ExFreePool(ctx);
        const next = yield* StartRequest(k, s, STATUS_PENDING);
        yield* k.WriteNoFence(s.next, next * 4);
      },
    },
  },
  invariants: {
    'next request untouched': (s, k) => {
      const next = k.peek(s.next) >>> 2;
      if (next === 0) return true;
      const status = k.peek(next + CTX_STATUS);
      return status === STATUS_PENDING || `the next request's context says status 0x${(status >>> 0).toString(16)} before it was ever completed`;
    },
  },
  expect: 'pass',
});
