import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// WDK "Reader/Writer Spin Locks": a shared acquisition admits every other reader at the same time, so it protects reads only.

// Device extension layout (words).
const DEVEXT_TABLE_LOCK = 0; // EX_SPIN_LOCK TableLock (zeroed by the pool allocation)
const DEVEXT_OPEN_HANDLES = 1; // ULONG OpenHandles: the filter table's statistics
const DEVEXT_BYTES = 16;
/** Opens each create path handles: a burst of CreateFile calls from one application thread. */
const OPENS = 4;

interface DeviceExtension {
  devExt: number;
  lock: number;
  /** What the lookup path read as OpenHandles. */
  seen: number;
}

/** DispatchCreate: counts the new handle in the filter table's statistics. */
function* CountOpen(k: Kernel, s: DeviceExtension) {
  // BUG: a shared acquisition for a write — "it is only one counter".
  const oldIrql = yield* k.ExAcquireSpinLockShared(s.lock);
  const n = yield* k.ReadNoFence(s.devExt + DEVEXT_OPEN_HANDLES);
  yield* k.WriteNoFence(s.devExt + DEVEXT_OPEN_HANDLES, n + 1);
  yield* k.ExReleaseSpinLockShared(s.lock, oldIrql);
}

export default defineScenario<DeviceExtension>({
  id: 'rwspinlock/writer-in-shared',
  title: 'Two create paths update a counter under a shared reader/writer spin lock',
  family: 'rwspinlock',
  variant: 'buggy',
  pairedWith: 'rwspinlock/correct',
  description:
    'A filter driver keeps its table statistics in the device extension behind an EX_SPIN_LOCK: lookups take it with ' +
    'ExAcquireSpinLockShared, and so — by mistake — does the create path that increments OpenHandles, because it ' +
    '"only changes one counter". Two applications open handles in bursts on two processors. A shared acquisition lets ' +
    'every other shared holder in at the same time: two creates both read the old count under the lock and one ' +
    'increment is lost. Driver Verifier has nothing ' +
    'to say (every acquire and release is legal); the "no lost update" check finds the wrong count. On one processor ' +
    'the holders run at DISPATCH_LEVEL one after the other and the bug stays hidden. The fix is ' +
    'ExAcquireSpinLockExclusive for every write (rwspinlock/correct).',
  setup: (k) => {
    const devExt = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, DEVEXT_BYTES, 'DevX');
    return {
      devExt,
      lock: k.name(devExt + DEVEXT_TABLE_LOCK, 'TableLock'),
      seen: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
    };
  },
  actors: {
    create1: { cpu: 0, *run(k, s) { for (let i = 0; i < OPENS; i++) yield* CountOpen(k, s); } },
    create2: { cpu: 1, *run(k, s) { for (let i = 0; i < OPENS; i++) yield* CountOpen(k, s); } },
    lookup: {
      cpu: 2,
      *run(k, s) {
        const oldIrql = yield* k.ExAcquireSpinLockShared(s.lock);
        yield* k.WriteNoFence(s.seen, yield* k.ReadNoFence(s.devExt + DEVEXT_OPEN_HANDLES));
        yield* k.ExReleaseSpinLockShared(s.lock, oldIrql);
      },
    },
  },
  invariants: {
    'no lost update': (s, k) => k.peek(s.devExt + DEVEXT_OPEN_HANDLES) === 2 * OPENS || `OpenHandles is ${k.peek(s.devExt + DEVEXT_OPEN_HANDLES)} after ${2 * OPENS} creates`,
    'lock released': (s, k) => k.peek(s.lock) === 0 || `TableLock is 0x${(k.peek(s.lock) >>> 0).toString(16)} at the end`,
  },
  expect: [
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { outcome: { invariant: 'no lost update' } },
  ],
});
