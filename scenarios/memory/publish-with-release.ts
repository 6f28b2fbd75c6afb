import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// memory/publish-without-barrier with the ordering it needs:
//   ctx->Signature = CONTEXT_SIGNATURE; ctx->Length = 64;
//   WriteRelease(&Ext->Context, ctx);            // the fields are visible before the pointer
// and the worker:
//   while ((ctx = ReadAcquire(&Ext->Context)) == NULL) ;
const SIGNATURE = 0x20787443; // 'Ctx '
const LENGTH = 64;
const CTX_SIGNATURE = 0;
const CTX_LENGTH = 1;

interface State {
  published: number;
  seenSignature: number;
  seenLength: number;
}

function* Publish(k: Kernel, s: State) {
  const ctx = k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Ctx '), 'context');
  yield* k.WriteNoFence(ctx + CTX_SIGNATURE, SIGNATURE);
  yield* k.WriteNoFence(ctx + CTX_LENGTH, LENGTH);
  yield* k.WriteRelease(s.published, ctx);
}

function* Consume(k: Kernel, s: State) {
  let ctx: number;
  while ((ctx = yield* k.ReadAcquire(s.published)) === 0);
  const signature = yield* k.ReadNoFence(ctx + CTX_SIGNATURE);
  const length = yield* k.ReadNoFence(ctx + CTX_LENGTH);
  yield* k.InterlockedExchange(s.seenSignature, signature);
  yield* k.InterlockedExchange(s.seenLength, length);
}

export default defineScenario<State>({
  id: 'memory/publish-with-release',
  title: 'A context published with WriteRelease, read with ReadAcquire',
  family: 'memory',
  variant: 'correct',
  pairedWith: 'memory/publish-without-barrier',
  description:
    'The context of memory/publish-without-barrier, published with WriteRelease: every earlier store of the ' +
    'dispatch routine (the Signature and Length) is visible before the pointer is. The worker reads the pointer with ' +
    'ReadAcquire, so its reads of the fields cannot be satisfied before it. Correct on x64 (where both compile to ' +
    'plain moves) and on ARM64 (STLR / LDAR).',
  setup: (k) => ({
    published: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Pub '),
    seenSignature: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
    seenLength: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
  }),
  actors: {
    dispatch: { cpu: 0, *run(k, s) { yield* Publish(k, s); } },
    worker: { cpu: 1, *run(k, s) { yield* Consume(k, s); } },
  },
  invariants: {
    'worker sees the context filled in': (s, k) => {
      const sig = k.peek(s.seenSignature);
      const len = k.peek(s.seenLength);
      return (sig === SIGNATURE && len === LENGTH) ||
        `the worker saw the published context with Signature 0x${(sig >>> 0).toString(16)} and Length ${len}`;
    },
  },
  expect: 'pass',
});
