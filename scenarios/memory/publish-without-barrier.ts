import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// A dispatch routine builds a context and publishes it for a worker on another processor:
//   ctx = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(CONTEXT), 'Ctx ');
//   ctx->Signature = CONTEXT_SIGNATURE; ctx->Length = 64;
//   WriteNoFence(&Ext->Context, ctx);            // <- no release
// and the worker:
//   while ((ctx = ReadNoFence(&Ext->Context)) == NULL) ;
//   use(ctx->Signature, ctx->Length);
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
  yield* k.WriteNoFence(s.published, ctx);
}

function* Consume(k: Kernel, s: State) {
  let ctx: number;
  while ((ctx = yield* k.ReadNoFence(s.published)) === 0);
  const signature = yield* k.ReadNoFence(ctx + CTX_SIGNATURE);
  const length = yield* k.ReadNoFence(ctx + CTX_LENGTH);
  // What the worker saw, kept for the invariant (an interlocked store: the record itself is not in question).
  yield* k.InterlockedExchange(s.seenSignature, signature);
  yield* k.InterlockedExchange(s.seenLength, length);
}

export default defineScenario<State>({
  id: 'memory/publish-without-barrier',
  title: 'A context published with WriteNoFence',
  family: 'memory',
  variant: 'buggy',
  pairedWith: 'memory/publish-with-release',
  description:
    'A dispatch routine allocates a context, fills in its Signature and Length, and publishes the pointer with a plain ' +
    'store (WriteNoFence); a worker on another processor waits for the pointer and reads the fields. On x64 this works: ' +
    'stores leave the store buffer in program order (x86-TSO), so whoever sees the pointer sees the fields. On ARM64 the ' +
    'processor may make the pointer visible before the fields: the worker follows a valid pointer into a context it ' +
    'sees uninitialised (Signature 0, Length 0). The fix is to publish with WriteRelease and read with ReadAcquire ' +
    '(memory/publish-with-release).',
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
        `the worker saw the published context with Signature 0x${(sig >>> 0).toString(16)} and Length ${len}: ` +
        'the stores that filled it in were not yet visible to it when the pointer was';
    },
  },
  expect: [
    { when: { arch: 'arm64' }, outcome: { invariant: 'worker sees the context filled in' } },
    { outcome: 'pass' },
  ],
});
