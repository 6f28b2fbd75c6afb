import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// WDK "Reader/Writer Spin Locks": readers share the lock, every writer takes it exclusive.

// Device extension layout (words).
const DEVEXT_TABLE_LOCK = 0; // EX_SPIN_LOCK TableLock (zeroed by the pool allocation)
const DEVEXT_OPEN_HANDLES = 1; // ULONG OpenHandles: the filter table's statistics
const DEVEXT_BYTES = 16;
/** Opens each create path handles: a burst of CreateFile calls from one application thread. */
const OPENS = 4;

interface DeviceExtension {
  devExt: number;
  lock: number;
  /** What each lookup read as OpenHandles (-1: not yet). */
  seen: number;
}

/** DispatchCreate: counts the new handle in the filter table's statistics. */
function* CountOpen(k: Kernel, s: DeviceExtension) {
  const oldIrql = yield* k.ExAcquireSpinLockExclusive(s.lock);
  const n = yield* k.ReadNoFence(s.devExt + DEVEXT_OPEN_HANDLES);
  yield* k.WriteNoFence(s.devExt + DEVEXT_OPEN_HANDLES, n + 1);
  yield* k.ExReleaseSpinLockExclusive(s.lock, oldIrql);
}

/** A lookup: two reads of the statistics under one shared acquisition must agree (no writer in between). */
function* Lookup(k: Kernel, s: DeviceExtension, slot: number) {
  const oldIrql = yield* k.ExAcquireSpinLockShared(s.lock);
  const a = yield* k.ReadNoFence(s.devExt + DEVEXT_OPEN_HANDLES);
  const b = yield* k.ReadNoFence(s.devExt + DEVEXT_OPEN_HANDLES);
  yield* k.ExReleaseSpinLockShared(s.lock, oldIrql);
  k.NT_ASSERT(a === b, `lookup ${slot} saw OpenHandles change from ${a} to ${b} under a shared acquisition`);
  yield* k.WriteNoFence(s.seen + slot, a);
}

export default defineScenario<DeviceExtension>({
  id: 'rwspinlock/correct',
  title: 'Creates update the counter under an exclusive acquisition, lookups read it shared',
  family: 'rwspinlock',
  variant: 'correct',
  pairedWith: 'rwspinlock/writer-in-shared',
  description:
    'The filter driver\'s table statistics sit behind an EX_SPIN_LOCK in the device extension. Lookups take it with ' +
    'ExAcquireSpinLockShared and may run together on several processors; the create path takes it with ' +
    'ExAcquireSpinLockExclusive to increment OpenHandles, which waits until no reader holds the lock and keeps new ' +
    'readers out meanwhile. No increment is lost, and a lookup never sees the counter change while it holds the lock, ' +
    'on any rig.',
  setup: (k) => {
    const devExt = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, DEVEXT_BYTES, 'DevX');
    return {
      devExt,
      lock: k.name(devExt + DEVEXT_TABLE_LOCK, 'TableLock'),
      seen: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Seen'),
    };
  },
  actors: {
    create1: { cpu: 0, *run(k, s) { for (let i = 0; i < OPENS; i++) yield* CountOpen(k, s); } },
    create2: { cpu: 1, *run(k, s) { for (let i = 0; i < OPENS; i++) yield* CountOpen(k, s); } },
    lookup1: { cpu: 2, *run(k, s) { yield* Lookup(k, s, 0); } },
    lookup2: { cpu: 3, *run(k, s) { yield* Lookup(k, s, 1); } },
  },
  invariants: {
    'no lost update': (s, k) => k.peek(s.devExt + DEVEXT_OPEN_HANDLES) === 2 * OPENS || `OpenHandles is ${k.peek(s.devExt + DEVEXT_OPEN_HANDLES)} after ${2 * OPENS} creates`,
    'lock released': (s, k) => k.peek(s.lock) === 0 || `TableLock is 0x${(k.peek(s.lock) >>> 0).toString(16)} at the end`,
  },
  expect: 'pass',
});
