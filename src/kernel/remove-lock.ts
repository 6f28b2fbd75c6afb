/**
 * Remove locks: IO_REMOVE_LOCK (WDK "Using Remove Locks"; the I/O manager's
 * IoAcquireRemoveLockEx / IoReleaseRemoveLockEx / IoReleaseRemoveLockAndWaitEx).
 *
 * The lock is three fields in caller storage (usually the device extension):
 * Removed, IoCount and a NotificationEvent RemoveEvent. IoCount starts at 1 —
 * the bias IoReleaseRemoveLockAndWait drops — so it reaches 0 only once the
 * remove has started and every holder is gone. An acquire increments first
 * and looks at Removed second, so an acquire racing with the remove either
 * succeeds and is waited for, or fails with STATUS_DELETE_PENDING after
 * undoing its increment (and signalling the event if it was the last one).
 *
 * The waiter sleeps in KeWaitForSingleObject on RemoveEvent, and the last
 * releaser calls KeSetEvent: the dispatcher family's real wait and wake.
 *
 * Checked build (the WDK's checked remove lock asserts): a release that takes
 * IoCount below zero, IoReleaseRemoveLockAndWait without the caller's own
 * acquire, and the IRQL rules end as KMODE_EXCEPTION_NOT_HANDLED with
 * STATUS_ASSERTION_FAILURE (0x1E).
 */
import { BugCheck } from '../machine/bugcheck.ts';
import { DISPATCH_LEVEL, irqlName, PASSIVE_LEVEL } from '../machine/irql.ts';
import { OP_READ, OP_RMW, OP_WRITE, type Routine } from '../machine/ops.ts';
import { DISPATCHER_OBJECT_WORDS } from './dispatcher.ts';
import type { Kernel } from './kernel.ts';
import { REMOVE_LOCK_WAIT_NEVER_RETURNS, waitBegins, waitEnds } from './liveness.ts';
import { Executive, KernelMode, NotificationEvent, STATUS_ASSERTION_FAILURE, STATUS_DELETE_PENDING, STATUS_SUCCESS } from './status.ts';

/** IO_REMOVE_LOCK layout (words): Removed, IoCount, then the KEVENT RemoveEvent. */
export const RL_REMOVED = 0;
export const RL_IO_COUNT = 1;
export const RL_REMOVE_EVENT = 2;
export const IO_REMOVE_LOCK_WORDS = 2 + DISPATCHER_OBJECT_WORDS;

export type PIO_REMOVE_LOCK = number;

function assertionFailure(detail: string): BugCheck {
  return new BugCheck(0x1e, STATUS_ASSERTION_FAILURE, 0, 0, 0, `assertion failed: ${detail}`);
}

function checkIrql(k: Kernel, api: string, max: number): void {
  const irql = k.m.cur.cpu.irql;
  if (k.m.checked && irql > max) throw assertionFailure(`${api} called at ${irqlName(irql)} (allowed up to ${irqlName(max)})`);
}

/** The last holder out signals RemoveEvent (IoReleaseRemoveLockEx's tail). */
function* dropReference(k: Kernel, lock: PIO_REMOVE_LOCK, api: string): Routine<number> {
  const m = k.m;
  yield m.at(OP_RMW, lock + RL_IO_COUNT);
  const left = (m.xadd(lock + RL_IO_COUNT, -1) - 1) | 0;
  if (left === 0) yield* k.KeSetEvent(lock + RL_REMOVE_EVENT, 0, false);
  else if (left < 0 && m.checked) {
    throw assertionFailure(`${api}: ${m.nameOf(lock)} released more often than it was acquired (IoCount ${left})`);
  }
  return left;
}

export const removeLockApi = {
  /**
   * PASSIVE_LEVEL (setup time). Lays out an IO_REMOVE_LOCK at `lock` (caller storage, e.g. inside a
   * device extension) or allocates one: not removed, IoCount 1, RemoveEvent not signalled.
   * Returns its address. The tag, maximum-minutes and high-water arguments only feed the checked
   * build's tag tracking, which this box does not keep.
   */
  IoInitializeRemoveLock(this: Kernel, lock?: PIO_REMOVE_LOCK, _allocateTag = 0, _maxLockedMinutes = 0, _highWatermark = 0): PIO_REMOVE_LOCK {
    const m = this.m;
    const a = lock ?? m.memory.alloc(IO_REMOVE_LOCK_WORDS, 'IO_REMOVE_LOCK');
    m.words[a + RL_REMOVED] = 0;
    m.words[a + RL_IO_COUNT] = 1;
    if (!m.names.has(a + RL_REMOVE_EVENT)) m.names.set(a + RL_REMOVE_EVENT, `${m.nameOf(a)}.RemoveEvent`);
    this.KeInitializeEvent(NotificationEvent, false, a + RL_REMOVE_EVENT);
    return a;
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. STATUS_SUCCESS: the caller holds the lock until its IoReleaseRemoveLock,
   * and IoReleaseRemoveLockAndWait will not return before that. STATUS_DELETE_PENDING once
   * IoReleaseRemoveLockAndWait has started: the lock is not held (the device is going away; the
   * caller must not touch what the remove path frees).
   */
  *IoAcquireRemoveLock(this: Kernel, lock: PIO_REMOVE_LOCK, _tag = 0): Routine<number> {
    const m = this.m;
    m.cur.apiStack.push('IoAcquireRemoveLock');
    checkIrql(this, 'IoAcquireRemoveLock', DISPATCH_LEVEL);
    yield m.at(OP_RMW, lock + RL_IO_COUNT);
    const count = (m.xadd(lock + RL_IO_COUNT, 1) + 1) | 0;
    if (m.checked && count <= 0) throw assertionFailure(`IoAcquireRemoveLock: ${m.nameOf(lock)} has IoCount ${count} after the acquire (released more often than acquired)`);
    yield m.at(OP_READ, lock + RL_REMOVED);
    let status = STATUS_SUCCESS;
    if (m.read(lock + RL_REMOVED) !== 0) {
      yield* dropReference(this, lock, 'IoAcquireRemoveLock');
      status = STATUS_DELETE_PENDING;
    }
    m.cur.apiStack.pop();
    return status;
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. Releases one acquire; the last holder out after the remove started
   * wakes IoReleaseRemoveLockAndWait. Checked build: releasing more than was acquired is 0x1E.
   */
  *IoReleaseRemoveLock(this: Kernel, lock: PIO_REMOVE_LOCK, _tag = 0): Routine<void> {
    const m = this.m;
    m.cur.apiStack.push('IoReleaseRemoveLock');
    checkIrql(this, 'IoReleaseRemoveLock', DISPATCH_LEVEL);
    yield* dropReference(this, lock, 'IoReleaseRemoveLock');
    m.cur.apiStack.pop();
  },

  /**
   * PASSIVE_LEVEL, holding an acquire of the lock (the remove-device dispatch's own). Marks the
   * lock removed — every later IoAcquireRemoveLock fails with STATUS_DELETE_PENDING — releases the
   * caller's acquire and the initial bias, and waits (a real KeWaitForSingleObject on RemoveEvent)
   * until every other holder has released. After it returns nothing holds the lock, and the driver
   * may free what the lock protects. Checked build: called above PASSIVE_LEVEL, or without the
   * caller's acquire, is 0x1E.
   */
  *IoReleaseRemoveLockAndWait(this: Kernel, lock: PIO_REMOVE_LOCK, _tag = 0): Routine<void> {
    const m = this.m;
    m.cur.apiStack.push('IoReleaseRemoveLockAndWait');
    checkIrql(this, 'IoReleaseRemoveLockAndWait', PASSIVE_LEVEL);
    yield m.at(OP_WRITE, lock + RL_REMOVED);
    m.write(lock + RL_REMOVED, 1);
    // The caller's own acquire: with it, at least the bias remains.
    yield m.at(OP_RMW, lock + RL_IO_COUNT);
    const afterOwn = (m.xadd(lock + RL_IO_COUNT, -1) - 1) | 0;
    if (m.checked && afterOwn <= 0) {
      throw assertionFailure(`IoReleaseRemoveLockAndWait: the caller does not hold ${m.nameOf(lock)} (acquire it with IoAcquireRemoveLock first)`);
    }
    // The bias: whoever takes IoCount to zero signals RemoveEvent.
    yield m.at(OP_RMW, lock + RL_IO_COUNT);
    const left = (m.xadd(lock + RL_IO_COUNT, -1) - 1) | 0;
    if (left > 0) {
      waitBegins(this, REMOVE_LOCK_WAIT_NEVER_RETURNS, 'IoReleaseRemoveLockAndWait', lock, (k) => {
        const holders = k.peek(lock + RL_IO_COUNT);
        return `${holders} holder${holders === 1 ? '' : 's'} that never called IoReleaseRemoveLock`;
      });
      yield* this.KeWaitForSingleObject(lock + RL_REMOVE_EVENT, Executive, KernelMode, false, null);
      waitEnds(this, lock);
    }
    m.cur.apiStack.pop();
  },
};

export type RemoveLockApi = typeof removeLockApi;
