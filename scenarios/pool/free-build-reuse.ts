import { defineScenario, POOL_FLAG_NON_PAGED, STATUS_PENDING, STATUS_SUCCESS, type Kernel } from 'racebox';

// A request context freed by the cancel path while the completion DPC still holds a pointer to it.

/** REQUEST_CONTEXT: { ULONG Magic; NTSTATUS Status; ULONG Bytes; ULONG Reserved } — 16 bytes. */
const CTX_MAGIC = 0;
const CTX_STATUS = 1;
const CTX_BYTES = 16;
const REQUEST_MAGIC = 0x52657131;

interface DeviceExtension {
  /** PREQUEST_CONTEXT CurrentRequest (a byte address, 0 when none). */
  current: number;
  /** Where the cancel path keeps the context of the next request it starts (a word address, for the invariant). */
  next: number;
  /** The first request's context (for the report). */
  first: number;
}

function* StartRequest(k: Kernel, s: DeviceExtension, status: number) {
  const ctx = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, CTX_BYTES, 'ReqC');
  yield* k.WriteNoFence(ctx + CTX_MAGIC, REQUEST_MAGIC);
  yield* k.WriteNoFence(ctx + CTX_STATUS, status);
  return ctx;
}

export default defineScenario<DeviceExtension>({
  id: 'pool/free-build-reuse',
  title: 'Cancel frees the request context while the completion DPC still writes to it',
  family: 'pool',
  variant: 'buggy',
  pairedWith: 'pool/free-build-reuse-locked',
  description:
    'The device extension points at the context of the request in progress. When the hardware finishes, the ' +
    'completion DPC reads CurrentRequest and writes the final status into that context. The cancel path, on another ' +
    'CPU, takes CurrentRequest, clears it, frees the context and starts the next request, whose new context is ' +
    'allocated at once. Nothing orders the two: the DPC can read the pointer just before the cancel path clears it and ' +
    'write the status just after the free. On a checked build special pool never reuses the block, so the write stops ' +
    'the machine with DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5). On a free build the freed 16 bytes are exactly ' +
    'what the next request asks for, and pool hands the same block out again: the stale write lands in the new ' +
    'request\'s context, which now says STATUS_SUCCESS before that request has even started — the corruption a field ' +
    'crash dump would show, far from its cause. On one CPU the DPC runs to the end before the thread can go on, so the ' +
    'window is closed. The fix takes the device lock around both the pointer and the write (pool/free-build-reuse-locked).',
  setup: (k) => {
    const ext = k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'DevX'), 'CurrentRequest');
    const first = k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, CTX_BYTES, 'ReqC'), 'RequestContext');
    k.poke(first + CTX_MAGIC, REQUEST_MAGIC);
    k.poke(first + CTX_STATUS, STATUS_PENDING);
    k.poke(ext, first * 4);
    return { current: ext, next: k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Next'), 'NextRequest'), first };
  },
  actors: {
    completionDpc: {
      kind: 'dpc',
      cpu: 1,
      *run(k, s) {
        const ctx = (yield* k.ReadNoFence(s.current)) >>> 2;
        if (ctx === 0) return; // cancelled: nothing to complete
        // BUG: the cancel path may free the context right here.
        yield* k.WriteNoFence(ctx + CTX_STATUS, STATUS_SUCCESS);
      },
    },
    cancel: {
      cpu: 0,
      *run(k, s) {
        const ctx = (yield* k.InterlockedExchange(s.current, 0)) >>> 2;
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
      if (status === STATUS_PENDING) return true;
      const reused = next === s.first ? ' (its context is the cancelled request\'s block, handed out again)' : '';
      return `the next request's context says status 0x${(status >>> 0).toString(16)}${status === STATUS_SUCCESS ? ' (STATUS_SUCCESS)' : ''} before it was ever completed${reused}`;
    },
  },
  expect: [
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'next request untouched' } },
  ],
});
