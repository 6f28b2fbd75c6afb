/**
 * In-stack queued spin locks (nt-semantics section 3): an MCS queue lock.
 * The KSPIN_LOCK word holds a pointer to the tail KLOCK_QUEUE_HANDLE (0 when
 * free); each waiter spins only on its own handle, and the releaser hands the
 * lock to its successor, so the lock is granted strictly in request order.
 * ReactOS replaces this with a test-and-set; we keep Windows' FIFO hand-off.
 */
import { ScenarioError, verifierViolation } from '../machine/bugcheck.ts';
import { DISPATCH_LEVEL } from '../machine/irql.ts';
import { OP_IRQL, OP_READ, OP_RMW, OP_SPIN, OP_WRITE, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';
import { noteAcquired, noteReleased, type PKSPIN_LOCK } from './spinlock.ts';

/** KLOCK_QUEUE_HANDLE layout in words: LockQueue.Next, LockQueue.Lock, OldIrql. */
export const LQ_NEXT = 0;
export const LQ_LOCK = 1;
export const LQ_OLD_IRQL = 2;
export const LOCK_QUEUE_WAIT = 1;
export const LOCK_QUEUE_OWNER = 2;

export type PKLOCK_QUEUE_HANDLE = number;

/**
 * Per-run bookkeeping: spare handles per context, and the order log for locks
 * a scenario asked to watch. A loop that takes the lock over and over asks for
 * the same context's spares and recycles the same handle every time: the last
 * answers are kept beside the Map and the Set, which cost a hash lookup each
 * (four per critical section, a third of one in free-run).
 */
export class QueuedLockState {
  readonly spare = new Map<number, number[]>();
  /** Handles the kernel allocated itself (a caller's own handles are never recycled). */
  readonly auto = new Set<number>();
  readonly order = new Map<number, { requests: string[]; grants: string[] }>();
  /** The context whose spare list was last looked up, and that list. */
  lastId = -1;
  lastSpare: number[] | null = null;
  /** The handle last found in `auto`. */
  lastAuto = -1;
  reset(): void {
    if (this.spare.size !== 0) this.spare.clear();
    if (this.auto.size !== 0) this.auto.clear();
    if (this.order.size !== 0) this.order.clear();
    this.lastId = -1;
    this.lastSpare = null;
    this.lastAuto = -1;
  }

  /** The spare handles of context `id`; with `make`, created when it has none. */
  spareOf(id: number, make: boolean): number[] | undefined {
    if (id === this.lastId) return this.lastSpare!;
    let list = this.spare.get(id);
    if (list === undefined) {
      if (!make) return undefined;
      this.spare.set(id, (list = []));
    }
    this.lastId = id;
    this.lastSpare = list;
    return list;
  }

  isAuto(h: number): boolean {
    if (h === this.lastAuto) return true;
    if (!this.auto.has(h)) return false;
    this.lastAuto = h;
    return true;
  }
}

function takeHandle(k: Kernel): number {
  const ctx = k.m.cur;
  const reused = k.queued.spareOf(ctx.id, false)?.pop();
  if (reused !== undefined) return reused;
  // In Windows the handle lives on the acquiring processor's stack: its own cache line, never shared.
  const h = k.m.memory.alloc(3, `KLOCK_QUEUE_HANDLE(${ctx.name})`, true);
  k.queued.auto.add(h);
  return h;
}

/** Verifier's QueuedSpinLock rule (any HAL): a handle still enqueued or owning may not be used again. */
function checkHandleFree(k: Kernel, lock: number, h: number): void {
  const m = k.m;
  if (m.checked && (m.read(h + LQ_LOCK) & (LOCK_QUEUE_WAIT | LOCK_QUEUE_OWNER)) !== 0) {
    throw verifierViolation(0x00040006, lock * 4, h * 4, 0);
  }
}

/** UP HAL: nothing to queue behind and the lock word is never written; the handle still records its lock. */
function acquireUp(k: Kernel, lock: number, h: number): void {
  checkHandleFree(k, lock, h);
  k.m.write(h + LQ_LOCK, (lock * 4) | LOCK_QUEUE_OWNER);
  if (k.queued.order.size !== 0) logRequest(k, lock);
}

/*
 * Checked-build checks, order logs and errors are functions of their own: free-run inlines these
 * routines into the scenario code that calls them only while they are small.
 */

function logRequest(k: Kernel, lock: number): void {
  k.queued.order.get(lock)?.requests.push(k.m.cur.name);
}

function* enqueue(k: Kernel, lock: number, h: number): Routine<void> {
  const m = k.m;
  checkHandleFree(k, lock, h);
  // The handle is private until it is published by the exchange below.
  m.write(h + LQ_NEXT, 0);
  m.write(h + LQ_LOCK, lock * 4);
  yield m.at(OP_RMW, lock);
  const prev = m.xchg(lock, h * 4);
  if (k.queued.order.size !== 0) logRequest(k, lock);
  if (prev === 0) {
    m.or(h + LQ_LOCK, LOCK_QUEUE_OWNER);
    return;
  }
  m.or(h + LQ_LOCK, LOCK_QUEUE_WAIT);
  const pred = prev >> 2;
  yield m.at(OP_WRITE, pred + LQ_NEXT);
  m.write(pred + LQ_NEXT, h * 4);
  do yield m.at(OP_SPIN, h + LQ_LOCK);
  while ((m.read(h + LQ_LOCK) & LOCK_QUEUE_WAIT) !== 0);
}

function* dequeue(k: Kernel, lock: number, h: number): Routine<void> {
  const m = k.m;
  yield m.at(OP_READ, h + LQ_NEXT);
  let next = m.read(h + LQ_NEXT);
  if (next === 0) {
    yield m.at(OP_RMW, lock);
    if (m.cmpxchg(lock, 0, h * 4) === h * 4) {
      m.and(h + LQ_LOCK, ~LOCK_QUEUE_OWNER);
      return;
    }
    // A successor swapped itself in; it may not have linked itself yet: wait for the link.
    yield m.at(OP_READ, h + LQ_NEXT);
    while ((next = m.read(h + LQ_NEXT)) === 0) yield m.at(OP_SPIN, h + LQ_NEXT);
  }
  const succ = next >> 2;
  yield m.at(OP_RMW, succ + LQ_LOCK);
  m.xor(succ + LQ_LOCK, LOCK_QUEUE_WAIT | LOCK_QUEUE_OWNER);
  m.write(h + LQ_NEXT, 0);
  m.and(h + LQ_LOCK, ~LOCK_QUEUE_OWNER);
}

function checkHandleOwns(k: Kernel, h: number, api: string): number {
  const m = k.m;
  const lockField = m.words[h + LQ_LOCK]!;
  const lock = lockField >> 2;
  const notOwner = m.checked && (lockField & LOCK_QUEUE_OWNER) === 0;
  if (notOwner || lock === 0) throw handleNotOwning(k, h, api, lock, notOwner);
  return lock;
}

function handleNotOwning(k: Kernel, h: number, api: string, lock: number, notOwner: boolean): Error {
  if (notOwner) return verifierViolation(0x00040007, lock * 4, h * 4, 0, `${api} with a handle that does not hold ${k.m.nameOf(lock)}`);
  return new ScenarioError(`${api}: handle ${h} was never used to acquire a lock`);
}

function recordGrant(k: Kernel, lock: number): void {
  if (k.queued.order.size !== 0) logGrant(k, lock);
}

function logGrant(k: Kernel, lock: number): void {
  k.queued.order.get(lock)?.grants.push(k.m.cur.name);
}

/** KeAcquireInStackQueuedSpinLock on a checked build: at most DISPATCH_LEVEL, then recursion and lock order. */
function checkQueuedAcquire(k: Kernel, lock: number, irql: number): void {
  if (irql > DISPATCH_LEVEL) throw verifierViolation(0x42, lock * 4, irql);
  checkOwner(k, lock);
}

/** The AtDpcLevel forms on a checked build: at least DISPATCH_LEVEL, then recursion and lock order. */
function checkQueuedAcquireAtDpc(k: Kernel, lock: number, irql: number): void {
  if (irql < DISPATCH_LEVEL) throw verifierViolation(0x40, lock * 4, irql);
  checkOwner(k, lock);
}

export const queuedSpinLockApi = {
  /**
   * IRQL ≤ DISPATCH_LEVEL. Raises to DISPATCH_LEVEL and joins the lock's queue;
   * returns the KLOCK_QUEUE_HANDLE (one is allocated when none is passed — the
   * "in-stack" handle of the calling routine).
   */
  *KeAcquireInStackQueuedSpinLock(this: Kernel, lock: PKSPIN_LOCK, handle?: PKLOCK_QUEUE_HANDLE): Routine<PKLOCK_QUEUE_HANDLE> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeAcquireInStackQueuedSpinLock');
    const h = handle ?? takeHandle(this);
    yield m.at(OP_IRQL, lock);
    const old = ctx.cpu.irql;
    if (m.checked) checkQueuedAcquire(this, lock, old);
    m.setIrql(ctx.cpu, DISPATCH_LEVEL);
    m.write(h + LQ_OLD_IRQL, old);
    if (m.mpHal) yield* enqueue(this, lock, h);
    else acquireUp(this, lock, h);
    recordGrant(this, lock);
    noteAcquired(this, lock, ctx);
    ctx.apiStack.pop();
    return h;
  },

  /** Exactly DISPATCH_LEVEL. Hands the lock to the next waiter (FIFO) and lowers IRQL to the handle's OldIrql. */
  *KeReleaseInStackQueuedSpinLock(this: Kernel, handle: PKLOCK_QUEUE_HANDLE): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeReleaseInStackQueuedSpinLock');
    const lock = checkHandleOwns(this, handle, 'KeReleaseInStackQueuedSpinLock');
    if (m.checked && ctx.cpu.irql !== DISPATCH_LEVEL) throw releaseNotAtDispatch(lock, ctx.cpu.irql);
    noteReleased(this, lock, ctx);
    if (m.mpHal) yield* dequeue(this, lock, handle);
    const old = m.read(handle + LQ_OLD_IRQL);
    yield m.at(OP_IRQL, lock);
    m.setIrql(ctx.cpu, old);
    releaseHandle(this, handle);
    ctx.apiStack.pop();
  },

  /** Exactly DISPATCH_LEVEL; IRQL unchanged. */
  *KeAcquireInStackQueuedSpinLockAtDpcLevel(this: Kernel, lock: PKSPIN_LOCK, handle?: PKLOCK_QUEUE_HANDLE): Routine<PKLOCK_QUEUE_HANDLE> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeAcquireInStackQueuedSpinLockAtDpcLevel');
    if (m.checked) checkQueuedAcquireAtDpc(this, lock, ctx.cpu.irql);
    const h = handle ?? takeHandle(this);
    if (m.mpHal) yield* enqueue(this, lock, h);
    else acquireUp(this, lock, h);
    recordGrant(this, lock);
    noteAcquired(this, lock, ctx);
    ctx.apiStack.pop();
    return h;
  },

  *KeReleaseInStackQueuedSpinLockFromDpcLevel(this: Kernel, handle: PKLOCK_QUEUE_HANDLE): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeReleaseInStackQueuedSpinLockFromDpcLevel');
    const lock = checkHandleOwns(this, handle, 'KeReleaseInStackQueuedSpinLockFromDpcLevel');
    if (m.checked && ctx.cpu.irql < DISPATCH_LEVEL) throw releaseBelowDispatch(lock, ctx.cpu.irql);
    noteReleased(this, lock, ctx);
    if (m.mpHal) yield* dequeue(this, lock, handle);
    releaseHandle(this, handle);
    ctx.apiStack.pop();
  },
};

/** Recursion on a queued lock would spin forever on one's own handle; a checked build stops it. */
function checkOwner(k: Kernel, lock: number): void {
  const m = k.m;
  const ctx = m.cur;
  const owner = m.lockOwners.get(lock);
  if (owner !== undefined && owner.cpu === ctx.cpu) {
    throw verifierViolation(0x1000, lock * 4, 0, 0, `${m.nameOf(lock)} acquired again on CPU ${ctx.cpu.index} by its owner`);
  }
  const v = k.verifier.onAcquire(ctx.heldLocks, lock, ctx.thread?.kthread ?? 0, (a) => m.nameOf(a));
  if (v) throw v;
}

function releaseNotAtDispatch(lock: number, irql: number): Error {
  return verifierViolation(0x36, lock * 4, irql);
}

function releaseBelowDispatch(lock: number, irql: number): Error {
  return verifierViolation(0x41, lock * 4, irql);
}

/**
 * Windows clears only the owner bit of LockQueue.Lock on release (dequeue has, on an MP HAL): the handle
 * keeps pointing at the lock, so a handle released twice releases that lock again, as on a real machine.
 */
function releaseHandle(k: Kernel, h: number): void {
  k.m.words[h + LQ_LOCK] &= ~LOCK_QUEUE_OWNER;
  if (!k.queued.isAuto(h)) return;
  k.queued.spareOf(k.m.cur.id, true)!.push(h);
}

/** Test support: lets a scenario observe request and grant order of one queued lock. */
export function watchQueuedLock(k: Kernel, lock: number): { requests: string[]; grants: string[] } {
  let log = k.queued.order.get(lock);
  if (!log) k.queued.order.set(lock, (log = { requests: [], grants: [] }));
  return log;
}

export type QueuedSpinLockApi = typeof queuedSpinLockApi;
