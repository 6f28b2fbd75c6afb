import { defineScenario, POOL_FLAG_NON_PAGED } from 'racebox';

// nt-semantics section 16: the "flag + reference count" alternative to EX_RUNDOWN_REF, and its window.

const BUFFER_DATA = 0x5a5a5a5a;

interface State {
  closing: number;
  refs: number;
  buffer: number;
  /** What the user read from the buffer (0 = it did not use it). */
  seen: number;
}

export default defineScenario<State>({
  id: 'rundown/naive-flag-refcount',
  title: 'Home-made rundown: a closing flag and a reference count',
  family: 'rundown',
  seeds: ['000_e9fda65b64a0843d', '001_53e72cbcf730dfd1'],
  variant: 'buggy',
  pairedWith: 'rundown/buffer-swap',
  description:
    'Instead of EX_RUNDOWN_REF the driver builds its own: users check a "closing" flag, then InterlockedIncrement a ' +
    'reference count, use the buffer and decrement; teardown sets the flag, waits for the count to reach zero and ' +
    'frees the buffer. The check and the increment are two separate steps. A user that has seen closing == 0 and is ' +
    'preempted (or merely slower) before its increment lets teardown see refs == 0 and free the buffer; the user then ' +
    'increments and reads freed memory. With Driver Verifier\'s special pool (checked rigs) the read faults at once: ' +
    'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5). On a free build the read quietly returns whatever the freed pool ' +
    'holds, which the "no use after free" check catches. EX_RUNDOWN_REF packs flag and count into one word changed by ' +
    'CAS, which closes the window (rundown/buffer-swap).',
  setup: (k) => {
    const buffer = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'Buff');
    k.poke(buffer, BUFFER_DATA);
    return {
      closing: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Clos'),
      refs: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Refs'),
      buffer,
      seen: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
    };
  },
  actors: {
    user: {
      cpu: 0,
      *run(k, s) {
        if (yield* k.ReadNoFence(s.closing)) return; // the object is going away
        // BUG: teardown can run to completion right here.
        yield* k.InterlockedIncrement(s.refs);
        const v = yield* k.ReadNoFence(s.buffer); // use(obj)
        yield* k.WriteNoFence(s.seen, v);
        yield* k.InterlockedDecrement(s.refs);
      },
    },
    teardown: {
      cpu: 1,
      *run(k, s) {
        yield* k.WriteNoFence(s.closing, 1);
        while ((yield* k.ReadNoFence(s.refs)) !== 0) yield* k.YieldProcessor();
        yield* k.ExFreePool(s.buffer);
      },
    },
  },
  invariants: {
    'no use after free': (s, k) => {
      const v = k.peek(s.seen);
      return v === 0 || v === BUFFER_DATA || `the user read 0x${(v >>> 0).toString(16)} from the buffer after teardown freed it`;
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'no use after free' } },
  ],
});
