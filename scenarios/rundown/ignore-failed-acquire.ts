import { defineScenario, POOL_FLAG_NON_PAGED } from 'racebox';

// nt-semantics section 17, item 12: ignoring a FALSE return from ExAcquireRundownProtection.

const BUFFER_DATA = 0x0b0b0b0b;

interface StreamContext {
  rundown: number;
  myBuffer: number;
  seen: number;
}

export default defineScenario<StreamContext>({
  id: 'rundown/ignore-failed-acquire',
  title: 'Buffer used after ExAcquireRundownProtection returned FALSE',
  family: 'rundown',
  seeds: ['000_e9fda65b64a0843d', '001_53e72cbcf730dfd1'],
  variant: 'buggy',
  pairedWith: 'rundown/buffer-swap',
  description:
    'The stream context\'s buffer is guarded by an EX_RUNDOWN_REF, and at teardown the owner calls ' +
    'ExWaitForRundownProtectionRelease and frees the buffer. A user calls ExAcquireRundownProtection but only looks ' +
    'at the result to decide whether to release afterwards: it uses the buffer either way. FALSE means the rundown has ' +
    'started and the buffer may already be gone; when the owner frees it between the failed acquire and the read, ' +
    'the user reads freed pool. Checked rigs (special pool) stop with DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5); ' +
    'a free build reads stale memory, which the "no use after free" check catches.',
  setup: (k) => {
    const buffer = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'Buff');
    k.poke(buffer, BUFFER_DATA);
    const myBuffer = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'MyBP');
    k.poke(myBuffer, buffer * 4);
    return {
      rundown: k.ExInitializeRundownProtection(),
      myBuffer,
      seen: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
    };
  },
  actors: {
    user: {
      cpu: 0,
      *run(k, ctx) {
        const acquired = yield* k.ExAcquireRundownProtection(ctx.rundown);
        // BUG: FALSE means "treat the object as gone" — this code carries on regardless.
        const buffer = (yield* k.ReadNoFence(ctx.myBuffer)) >>> 2;
        const v = yield* k.ReadNoFence(buffer);
        yield* k.WriteNoFence(ctx.seen, v);
        if (acquired) yield* k.ExReleaseRundownProtection(ctx.rundown);
      },
    },
    teardown: {
      cpu: 1,
      *run(k, ctx) {
        yield* k.ExWaitForRundownProtectionRelease(ctx.rundown);
        const buffer = (yield* k.ReadNoFence(ctx.myBuffer)) >>> 2;
        yield* k.ExFreePool(buffer);
        yield* k.ExRundownCompleted(ctx.rundown);
      },
    },
  },
  invariants: {
    'no use after free': (ctx, k) => {
      const v = k.peek(ctx.seen);
      return v === BUFFER_DATA || `the user read 0x${(v >>> 0).toString(16)} from the buffer after it was freed`;
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'no use after free' } },
  ],
});
