import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// The request context's references dropped with InterlockedDecrement: the last one frees it.

const CTX_REFCOUNT = 0;
const CTX_BYTES = 32;

interface DeviceExtension {
  ctx: number;
}

function* DereferenceContext(k: Kernel, s: DeviceExtension) {
  if ((yield* k.InterlockedDecrement(s.ctx + CTX_REFCOUNT)) === 0) yield* k.ExFreePool(s.ctx);
}

export default defineScenario<DeviceExtension>({
  id: 'pool/leak-at-unload-interlocked',
  title: 'Request context refcount dropped with InterlockedDecrement: freed exactly once',
  family: 'pool',
  variant: 'correct',
  pairedWith: 'pool/leak-at-unload',
  description:
    'The same request context as pool/leak-at-unload, with each reference dropped by InterlockedDecrement. The ' +
    'decrements cannot overlap, so exactly one path sees the count reach zero and frees the context: at unload no pool ' +
    'is left under the driver\'s tags, and Driver Verifier\'s pool tracking is satisfied on every rig.',
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
  expect: 'pass',
});
