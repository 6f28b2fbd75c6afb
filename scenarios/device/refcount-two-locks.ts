import { defineScenario, Executive, KernelMode, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// A device object's reference count kept as a plain LONG, each path updating it under its own spin lock.

const DEVICE_WORDS = 4;
const DEVICE_DATA = 0x44455600;
/** References each I/O thread and the open/close thread take and drop in turn. */
export const ROUNDS = 6;

export interface DeviceState {
  /** The reference count: 1 for the device's own reference, plus one per open handle or I/O in flight. */
  refs: number;
  /** Guards open/close bookkeeping (and, in the buggy form, the count when open and close change it). */
  openLock: number;
  /** Guards the I/O path (and, in the buggy form, the count when I/O changes it). */
  ioLock: number;
  device: number;
  /** Released once by each of the three users when it is done; remove waits for all three. */
  usersDone: number;
  /** Set by the one thread that deletes the object. */
  deleted: number;
  /** Test bookkeeping: non-zero when a user read the device after it was freed. */
  stale: number;
}

export function setUpDevice(k: Kernel): DeviceState {
  const device = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4 * DEVICE_WORDS, 'Devc');
  for (let i = 0; i < DEVICE_WORDS; i++) k.poke(device + i, DEVICE_DATA + i);
  const refs = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Refs');
  k.poke(refs, 1);
  return {
    refs,
    openLock: k.KeInitializeSpinLock(),
    ioLock: k.KeInitializeSpinLock(),
    device,
    usersDone: k.KeInitializeSemaphore(0, 3),
    deleted: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Dele'),
    stale: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Stal'),
  };
}

/**
 * Takes a reference unless the count is already zero (the object is being deleted), as ObReferenceObjectSafe
 * does: in the buggy form a read and a write under `lock`, in the fixed form a compare-exchange loop.
 */
function* Reference(k: Kernel, s: DeviceState, lock: number, interlocked: boolean) {
  if (interlocked) {
    for (;;) {
      const v = yield* k.ReadNoFence(s.refs);
      if (v === 0) return false;
      if ((yield* k.InterlockedCompareExchange(s.refs, v + 1, v)) === v) return true;
    }
  }
  const irql = yield* k.KeAcquireSpinLock(lock);
  const v = yield* k.ReadNoFence(s.refs);
  // BUG: another path updates refs under the other lock between this read and this write.
  if (v !== 0) yield* k.WriteNoFence(s.refs, v + 1);
  yield* k.KeReleaseSpinLock(lock, irql);
  return v !== 0;
}

/** Drops a reference; whoever drops the last one frees the device. */
function* Dereference(k: Kernel, s: DeviceState, lock: number, interlocked: boolean) {
  let left: number;
  if (interlocked) left = yield* k.InterlockedDecrement(s.refs);
  else {
    const irql = yield* k.KeAcquireSpinLock(lock);
    const v = yield* k.ReadNoFence(s.refs);
    left = v - 1;
    yield* k.WriteNoFence(s.refs, left);
    yield* k.KeReleaseSpinLock(lock, irql);
  }
  // The delete path runs once however the count gets to zero (the driver's delete-once guard), so a miscounted
  // object is used after free rather than freed twice.
  if (left === 0 && (yield* k.InterlockedExchange(s.deleted, 1)) === 0) yield* k.ExFreePool(s.device);
}

function* UseDevice(k: Kernel, s: DeviceState) {
  for (let w = 0; w < DEVICE_WORDS; w++) {
    const v = yield* k.ReadNoFence(s.device + w);
    // Bookkeeping of the test, not driver code: no scheduling point.
    if (v !== DEVICE_DATA + w) k.poke(s.stale, 1);
  }
}

/** An I/O thread: reference, use the device, dereference, ROUNDS times. */
export function* Io(k: Kernel, s: DeviceState, interlocked: boolean) {
  for (let r = 0; r < ROUNDS; r++) {
    if (!(yield* Reference(k, s, s.ioLock, interlocked))) continue; // the device is going away
    yield* UseDevice(k, s);
    yield* Dereference(k, s, s.ioLock, interlocked);
  }
  yield* k.KeReleaseSemaphore(s.usersDone, 0, 1, false);
}

/** IRP_MJ_CREATE / IRP_MJ_CLOSE in a loop: a handle holds a reference while it is open. */
export function* OpenClose(k: Kernel, s: DeviceState, interlocked: boolean) {
  for (let r = 0; r < ROUNDS; r++) {
    if (!(yield* Reference(k, s, s.openLock, interlocked))) continue; // the device is going away
    yield* UseDevice(k, s);
    yield* Dereference(k, s, s.openLock, interlocked);
  }
  yield* k.KeReleaseSemaphore(s.usersDone, 0, 1, false);
}

/** IRP_MN_REMOVE_DEVICE: once every user is done, drop the device's own reference. */
export function* Remove(k: Kernel, s: DeviceState, interlocked: boolean) {
  for (let i = 0; i < 3; i++) yield* k.KeWaitForSingleObject(s.usersDone, Executive, KernelMode, false, null);
  yield* Dereference(k, s, s.openLock, interlocked);
}

export const deviceInvariants = {
  'no use after free': (s: DeviceState, k: Kernel) => k.peek(s.stale) === 0 || 'a user read the device object after the last reference was dropped and it was freed',
};

export default defineScenario<DeviceState>({
  id: 'device/refcount-two-locks',
  title: 'Device reference count updated under two different spin locks',
  family: 'device',
  variant: 'buggy',
  pairedWith: 'device/refcount-interlocked',
  description:
    'A device object carries a plain LONG reference count: one for the device itself, one per open handle, one ' +
    'per I/O in flight; whoever drops the last reference frees the object. Create and close change the count ' +
    'under the open lock, the I/O path under the I/O lock — each path is "locked", but not against the other, ' +
    'and each update is a read and a write (a reference is refused once the count is zero). When an I/O thread reads the count, is preempted before its write, ' +
    'and create or close updates the count in between, one update is lost. A lost increment lets the count reach ' +
    'zero while a reference is still held: the object is freed and the next use reads freed pool. Two I/O threads, ' +
    'a create/close thread and the remove thread run six rounds each, so the window recurs but stays one ' +
    'instruction wide, and the early free hurts only when a third user is still using the object at that moment. ' +
    'Checked builds stop with DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5); a free build ' +
    'reads the poisoned words. InterlockedIncrement/InterlockedDecrement on the count, with no lock, is the fix ' +
    '(device/refcount-interlocked).',
  setup: setUpDevice,
  actors: {
    'io-1': { cpu: 0, *run(k, s) { yield* Io(k, s, false); } },
    'io-2': { cpu: 1, *run(k, s) { yield* Io(k, s, false); } },
    'open-close': { cpu: 2, *run(k, s) { yield* OpenClose(k, s, false); } },
    remove: { cpu: 3, *run(k, s) { yield* Remove(k, s, false); } },
  },
  invariants: deviceInvariants,
  expect: [
    // One CPU: the spin locks raise to DISPATCH_LEVEL, so nothing runs between a path's read and its write.
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'no use after free' } },
  ],
});
