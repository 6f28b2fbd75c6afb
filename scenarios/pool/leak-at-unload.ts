import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// A request context shared by two paths, each dropping its reference with a plain decrement.

/** REQUEST_CONTEXT: { LONG RefCount; ULONG Magic; ... } — 32 bytes. */
const CTX_REFCOUNT = 0;
const CTX_BYTES = 32;

interface DeviceExtension {
  /** PREQUEST_CONTEXT (word address), referenced by the I/O path and by the completion DPC. */
  ctx: number;
}

/** DereferenceContext: the last reference frees the context. */
function* DereferenceContext(k: Kernel, s: DeviceExtension) {
  // BUG: RefCount-- as a read and a write; two paths dropping at once lose one decrement.
  const refs = (yield* k.ReadNoFence(s.ctx + CTX_REFCOUNT)) - 1;
  yield* k.WriteNoFence(s.ctx + CTX_REFCOUNT, refs);
  if (refs === 0) yield* k.ExFreePool(s.ctx);
}

export default defineScenario<DeviceExtension>({
  id: 'pool/leak-at-unload',
  title: 'Request context refcount dropped with a plain decrement: the context leaks at unload',
  family: 'pool',
  variant: 'buggy',
  pairedWith: 'pool/leak-at-unload-interlocked',
  description:
    'A request context in pool carries a reference count of 2: one reference for the thread that issued the I/O, one ' +
    'for the completion DPC. Each drops its reference with `if (--ctx->RefCount == 0) ExFreePool(ctx)` — a read and a ' +
    'write, not InterlockedDecrement. When the DPC runs between the thread\'s read and its write (on another CPU, or ' +
    'on the same CPU, preempting it), both read 2 and both write 1: the count never reaches zero and nobody frees the ' +
    'context. Nothing crashes; the driver then unloads (the end of the run) with the context still allocated. On a ' +
    'checked build Driver Verifier\'s pool tracking stops the machine at unload with DRIVER_VERIFIER_DETECTED_VIOLATION ' +
    '(0xC4) parameter 1 = 0x62, naming the tag and the count of allocations left. A free build says nothing — the leak ' +
    'only shows as pool that is never given back, which the invariant counts with k.poolOutstanding. The fix is ' +
    'InterlockedDecrement (pool/leak-at-unload-interlocked).',
  // Every pool tag this driver allocates under is its own: all are checked at unload.
  driverTags: 'all',
  setup: (k) => {
    const ctx = k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, CTX_BYTES, 'ReqC'), 'RequestContext');
    k.poke(ctx + CTX_REFCOUNT, 2);
    return { ctx };
  },
  actors: {
    ioThread: { cpu: 0, *run(k, s) { yield* DereferenceContext(k, s); } },
    completionDpc: { kind: 'dpc', cpu: 1, *run(k, s) { yield* DereferenceContext(k, s); } },
  },
  invariants: {
    'no pool left at unload': (_s, k) => k.poolOutstanding('ReqC') === 0 || `${k.poolOutstanding('ReqC')} 'ReqC' allocation(s) never freed`,
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: 0x62 } },
    { outcome: { invariant: 'no pool left at unload' } },
  ],
});
