import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// Seed 000 ("Using EX_RUNDOWN_REF"): a stream context's buffer, replaced while users may be inside it.

const OLD_DATA = 0x0b0b0b0b;
const NEW_DATA = 0x0e0e0e0e;

interface StreamContext {
  /** EX_RUNDOWN_REF MyBufferRundownRef */
  rundown: number;
  /** PVOID MyBuffer (a pointer word) */
  myBuffer: number;
  /** What each user read from the buffer (0: its acquire failed, it did not touch it). */
  seen: number;
}

function* UseBuffer(k: Kernel, ctx: StreamContext, slot: number) {
  if (!(yield* k.ExAcquireRundownProtection(ctx.rundown))) return; // being replaced: try later
  const buffer = (yield* k.ReadNoFence(ctx.myBuffer)) >>> 2;
  const v = yield* k.ReadNoFence(buffer); // I/O with the buffer, no lock held
  yield* k.WriteNoFence(ctx.seen + slot, v);
  yield* k.ExReleaseRundownProtection(ctx.rundown);
}

export default defineScenario<StreamContext>({
  id: 'rundown/buffer-swap',
  title: 'EX_RUNDOWN_REF guards a buffer that gets replaced',
  family: 'rundown',
  seeds: ['000_e9fda65b64a0843d', '001_53e72cbcf730dfd1'],
  variant: 'correct',
  pairedWith: 'rundown/naive-flag-refcount',
  description:
    'The filter keeps MyBuffer in its stream context, guarded by MyBufferRundownRef, and uses it without holding a ' +
    'lock: ExAcquireRundownProtection, use the buffer, ExReleaseRundownProtection — and if the acquire fails, leave ' +
    'the buffer alone. When an event requires a new buffer, the owner calls ExWaitForRundownProtectionRelease (new ' +
    'acquires fail from that moment, and it sleeps until the users already inside have left), swaps in the new ' +
    'buffer, frees the old one, and re-arms the reference with ExRundownCompleted and ExReInitializeRundownProtection. ' +
    'Two threads and a DPC use the buffer meanwhile. No user ever sees freed memory, on any rig.',
  setup: (k) => {
    const buffer = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'OldB');
    k.poke(buffer, OLD_DATA);
    const myBuffer = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'MyBP');
    k.poke(myBuffer, buffer * 4);
    return {
      rundown: k.ExInitializeRundownProtection(),
      myBuffer,
      seen: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 12, 'Seen'),
    };
  },
  actors: {
    reader: { cpu: 0, *run(k, ctx) { yield* UseBuffer(k, ctx, 0); } },
    writer: { cpu: 2, *run(k, ctx) { yield* UseBuffer(k, ctx, 1); } },
    completionDpc: { kind: 'dpc', cpu: 3, *run(k, ctx) { yield* UseBuffer(k, ctx, 2); } },
    bufferOwner: {
      cpu: 1,
      *run(k, ctx) {
        const fresh = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'NewB');
        yield* k.WriteNoFence(fresh, NEW_DATA);
        yield* k.ExWaitForRundownProtectionRelease(ctx.rundown);
        const old = (yield* k.ReadNoFence(ctx.myBuffer)) >>> 2;
        yield* k.WriteNoFence(ctx.myBuffer, fresh * 4);
        yield* k.ExFreePool(old);
        yield* k.ExRundownCompleted(ctx.rundown);
        yield* k.ExReInitializeRundownProtection(ctx.rundown);
      },
    },
  },
  invariants: {
    'no use after free': (ctx, k) => {
      for (let i = 0; i < 3; i++) {
        const v = k.peek(ctx.seen + i);
        if (v !== 0 && v !== OLD_DATA && v !== NEW_DATA) return `user ${i} read 0x${(v >>> 0).toString(16)}: freed memory`;
      }
      return true;
    },
    'rundown re-armed': (ctx, k) => k.peek(ctx.rundown) === 0 || `the rundown word is 0x${(k.peek(ctx.rundown) >>> 0).toString(16)}, not 0`,
  },
  expect: 'pass',
});
