/**
 * ERESOURCE reader/writer locks (nt-semantics section 6).
 *
 * The owner table (thread → recursion count), the exclusive flag and the
 * waiter counts are kept per resource in shared kernel memory
 * (eresource-table.ts); the counts are mirrored into the ERESOURCE's words in
 * machine memory (so a freed resource faults). Every decision happens in one
 * step under the dispatcher lock, as under the resource's internal spin lock.
 * Shared waiters block on the embedded SharedWaiters semaphore, exclusive
 * waiters on the ExclusiveWaiters synchronization event, and ownership is
 * handed over by the releaser (no barging):
 *  - an exclusive owner asking for shared access just recurses;
 *  - ExAcquireResourceSharedLite: a new reader waits while a writer waits
 *    (writer preference) unless it already owns the resource;
 *    ExAcquireSharedStarveExclusive does not wait for writers;
 *    ExAcquireSharedWaitForExclusive waits for them even if it already owns it;
 *  - a shared owner asking for exclusive access waits for itself, forever
 *    (Verifier's deadlock detection does not track ERESOURCEs: a hang);
 *  - a departing writer admits all queued readers, else hands off to one
 *    writer; the last departing reader hands off to a writer.
 * Release by a thread that does not own it: RESOURCE_NOT_OWNED (0xE3), on
 * every build. Checked build: acquire/release with normal kernel APCs enabled
 * (no critical region, below APC_LEVEL) is 0xC4/0x37 / 0x38.
 */
import { BugCheck, ScenarioError, verifierViolation } from '../machine/bugcheck.ts';
import type { ExecContext, Thread } from '../machine/cpu.ts';
import { APC_LEVEL } from '../machine/irql.ts';
import { OP_KERNEL, OP_READ, OP_WAIT, type Routine } from '../machine/ops.ts';
import { DISPATCHER_OBJECT_WORDS, EventSynchronizationObject, SemaphoreObject, SEMAPHORE_LIMIT } from './dispatcher-object.ts';
import { initDispatcherObject, releaseSemaphoreNow, setEventNow } from './dispatcher.ts';
import { forgetResource, type Resource, resourceView } from './eresource-table.ts';
import type { Kernel } from './kernel.ts';
import { OBJ_ERESOURCE, registeredKind, registerObject, unregisterObject } from './object-registry.ts';
import { combinedApcDisable } from './regions.ts';
import { beginWait, checkWaitIrql, WAIT_BLOCKED } from './wait.ts';

export type PERESOURCE = number;

/** ERESOURCE layout (words). */
export const RES_FLAG = 0;
export const RES_ACTIVE_ENTRIES = 1;
export const RES_SHARED_WAITERS = 2;
export const RES_EXCLUSIVE_WAITERS = 3;
export const RES_OWNER_THREAD = 4;
export const RES_OWNER_COUNT = 5;
export const RES_CONTENTION = 6;
export const RES_INITIALIZED = 7;
export const RES_SHARED_SEMAPHORE = 8;
export const RES_EXCLUSIVE_EVENT = RES_SHARED_SEMAPHORE + DISPATCHER_OBJECT_WORDS;
export const ERESOURCE_WORDS = RES_EXCLUSIVE_EVENT + DISPATCHER_OBJECT_WORDS;

export const ResourceOwnedExclusive = 0x80;

type Mode = 'exclusive' | 'shared' | 'starve' | 'wait-for-exclusive';

/** Which ERESOURCEs this processor initialized (every processor runs setup; see isResource). */
class ResourceState {
  readonly byAddr = new Set<number>();
}

/** This processor's ERESOURCE state for the run. */
function rstate(k: Kernel): ResourceState {
  return k.perRun('eresource', () => new ResourceState());
}

/** Whether `res` is an initialized ERESOURCE, initialized by this processor or another. */
function isResource(k: Kernel, res: number): boolean {
  return rstate(k).byAddr.has(res) || registeredKind(k, res) === OBJ_ERESOURCE;
}

/** The bookkeeping of an initialized ERESOURCE; a ScenarioError naming `api` for anything else. Dispatcher lock held. */
function resourceAt(k: Kernel, res: number, api: string): Resource {
  const m = k.m;
  if (!isResource(k, res)) throw new ScenarioError(`${api}: ${m.nameOf(res)} is not an initialized ERESOURCE (use k.ExInitializeResourceLite)`);
  // Touch the resource's memory: a freed ERESOURCE faults here; one another processor deleted says so.
  if (m.read(res + RES_INITIALIZED) !== 1) throw new ScenarioError(`${api}: ${m.nameOf(res)} was deleted (ExDeleteResourceLite)`);
  return resourceView(k, res);
}

/** Mirrors the shared bookkeeping into the ERESOURCE's words. */
function sync(k: Kernel, r: Resource): void {
  const m = k.m;
  const a = r.addr;
  m.write(a + RES_FLAG, r.exclusive ? ResourceOwnedExclusive : 0);
  m.write(a + RES_ACTIVE_ENTRIES, r.ownerTotal);
  m.write(a + RES_SHARED_WAITERS, r.sharedWaiterTotal);
  m.write(a + RES_EXCLUSIVE_WAITERS, r.exclusiveWaiters);
  const first = r.exclusiveOwner ?? r.firstOwner();
  m.write(a + RES_OWNER_THREAD, r.handoff ? 1 : (first?.kthread ?? 0));
  m.write(a + RES_OWNER_COUNT, first ? r.ownerCount(first) : 0);
}

/** The calling thread; ERESOURCEs are owned by threads, so anything else is a scenario error. */
function currentThread(ctx: ExecContext, api: string): Thread {
  if (ctx.thread === null) throw new ScenarioError(`${api} needs a thread (called from ${ctx.kind} '${ctx.name}' on an idle processor)`);
  return ctx.thread;
}

/** Checked build: normal kernel APCs must be off (critical region, guarded region or APC_LEVEL). */
function checkApcs(k: Kernel, ctx: ExecContext, t: Thread, res: number, subcode: number, api: string): void {
  if (!k.m.checked) return;
  const irql = ctx.cpu.irql;
  if (irql < APC_LEVEL && combinedApcDisable(t) === 0) {
    throw verifierViolation(
      subcode, irql, combinedApcDisable(t), res * 4,
      `${api}(${k.m.nameOf(res)}) with normal kernel APCs enabled: call KeEnterCriticalRegion first, or the owner can be suspended while it holds the resource`,
    );
  }
}

/** "owned shared by 'a', 'b'", for reports. */
function describeOwners(r: Resource): string {
  if (r.handoff) return 'being handed to an exclusive waiter';
  const owners = r.owners();
  if (owners.length === 0) return 'free';
  const names = owners.map((o) => `'${o.thread.name}'`).join(', ');
  return `owned ${r.exclusive ? 'exclusive' : 'shared'} by ${names}`;
}

/** Admits every queued reader at once (their owner slots were reserved when they queued). */
function admitShared(k: Kernel, r: Resource): void {
  const waiters = r.sharedWaiters();
  const n = waiters.length;
  r.exclusive = false;
  r.exclusiveOwner = null;
  for (const w of waiters) r.setOwner(w, r.ownerCount(w) + 1);
  r.clearSharedWaiters();
  releaseSemaphoreNow(k, r.addr + RES_SHARED_SEMAPHORE, n);
}

/** Hands exclusive ownership to the first exclusive waiter (it records itself when it runs). */
function handOffExclusive(k: Kernel, r: Resource): void {
  r.exclusive = true;
  r.exclusiveOwner = null;
  r.handoff = true;
  r.exclusiveWaiters--;
  setEventNow(k, r.addr + RES_EXCLUSIVE_EVENT);
}

/** The resource just became unowned: pick who gets it next. */
function grantNext(k: Kernel, r: Resource, wasExclusive: boolean): void {
  r.exclusive = false;
  r.exclusiveOwner = null;
  const readers = r.sharedWaiterTotal;
  if (wasExclusive && readers > 0) admitShared(k, r);
  else if (r.exclusiveWaiters > 0) handOffExclusive(k, r);
  else if (readers > 0) admitShared(k, r);
}

/** The common acquire path of every ExAcquire* routine. */
function* acquire(k: Kernel, res: PERESOURCE, wait: boolean, mode: Mode, api: string): Routine<boolean> {
  const m = k.m;
  const ctx = m.cur;
  ctx.apiStack.push(api);
  yield m.at(OP_KERNEL, res);
  const exclusive = mode === 'exclusive';
  const obj = res + (exclusive ? RES_EXCLUSIVE_EVENT : RES_SHARED_SEMAPHORE);
  let t: Thread;
  let blocked: boolean;
  m.lockDispatcher();
  try {
    const r = resourceAt(k, res, api);
    t = currentThread(ctx, api);
    checkApcs(k, ctx, t, res, 0x37, api);
    const mine = r.ownerCount(t);
    let grant = false;
    if (r.ownerTotal === 0 && !r.handoff) {
      grant = true;
      r.exclusive = exclusive;
      r.exclusiveOwner = r.exclusive ? t : null;
    } else if (r.exclusive) {
      // Exclusive (or being handed over): only the exclusive owner gets in, by recursion.
      grant = r.exclusiveOwner === t;
    } else if (exclusive) {
      grant = false; // shared-owned: even a shared owner waits (for itself, if it is one)
    } else if (mode === 'starve') {
      grant = true;
    } else if (mode === 'wait-for-exclusive') {
      grant = r.exclusiveWaiters === 0;
    } else {
      grant = mine > 0 || r.exclusiveWaiters === 0;
    }
    if (grant) {
      r.setOwner(t, mine + 1);
      sync(k, r);
      ctx.apiStack.pop();
      return true;
    }
    if (!wait) {
      ctx.apiStack.pop();
      return false;
    }
    // ExpWaitForResource waits with a 500 ms timeout (and loops): a timed wait, as far as IRQL rules go.
    checkWaitIrql(k, ctx, 1, obj);
    if (exclusive) r.exclusiveWaiters++;
    else r.pushSharedWaiter(t);
    m.write(res + RES_CONTENTION, m.read(res + RES_CONTENTION) + 1);
    sync(k, r);
    const owner = mine > 0 ? t : (r.exclusiveOwner ?? r.firstOwner());
    const reason = `ERESOURCE ${m.nameOf(res)} (${exclusive ? 'exclusive' : 'shared'} access; ${describeOwners(r)}${mine > 0 ? `, including '${t.name}' itself` : ''})`;
    blocked = beginWait(k, ctx, [obj], false, null, reason, owner) === WAIT_BLOCKED;
  } finally {
    m.unlockDispatcher();
  }
  if (blocked) yield m.at(OP_WAIT, obj);
  if (exclusive) {
    // Woken by a hand-off: record ourselves as the owner.
    m.lockDispatcher();
    try {
      const r = resourceView(k, res);
      r.handoff = false;
      r.exclusive = true;
      r.exclusiveOwner = t;
      r.setOwner(t, 1);
      sync(k, r);
    } finally {
      m.unlockDispatcher();
    }
  }
  ctx.apiStack.pop();
  return true;
}

export const eresourceApi = {
  /** IRQL ≤ DISPATCH_LEVEL. Initializes an ERESOURCE, free; storage (non-paged) is allocated when omitted. */
  ExInitializeResourceLite(this: Kernel, resource?: PERESOURCE): PERESOURCE {
    const m = this.m;
    const st = rstate(this);
    if (resource !== undefined && st.byAddr.has(resource) && m.checked && m.words[resource + RES_INITIALIZED] === 1) {
      throw verifierViolation(0xd0, resource * 4, 0, 0, `${m.nameOf(resource)} initialized again while it is live (delete it first)`);
    }
    const a = resource ?? m.memory.alloc(ERESOURCE_WORDS, 'ERESOURCE');
    for (let i = 0; i < ERESOURCE_WORDS; i++) m.words[a + i] = 0;
    m.words[a + RES_INITIALIZED] = 1;
    initDispatcherObject(this, a + RES_SHARED_SEMAPHORE, SemaphoreObject, 0);
    m.words[a + RES_SHARED_SEMAPHORE + SEMAPHORE_LIMIT] = 0x7fffffff;
    initDispatcherObject(this, a + RES_EXCLUSIVE_EVENT, EventSynchronizationObject, 0);
    st.byAddr.add(a);
    registerObject(this, a, OBJ_ERESOURCE);
    // Initialized again: the old bookkeeping goes.
    m.lockDispatcher();
    try {
      forgetResource(this, a);
    } finally {
      m.unlockDispatcher();
    }
    return a;
  },

  /** IRQL ≤ APC_LEVEL. Unlinks the resource; it must not be owned or waited on. */
  *ExDeleteResourceLite(this: Kernel, resource: PERESOURCE): Routine<void> {
    const m = this.m;
    yield m.at(OP_KERNEL, resource);
    const st = rstate(this);
    if (!isResource(this, resource) || m.words[resource + RES_INITIALIZED] !== 1) {
      if (m.checked) throw verifierViolation(0xd1, resource * 4, 0, 0, `ExDeleteResourceLite: ${m.nameOf(resource)} was never initialized`);
      return;
    }
    m.lockDispatcher();
    try {
      m.write(resource + RES_INITIALIZED, 0);
      st.byAddr.delete(resource);
      unregisterObject(this, resource);
      forgetResource(this, resource);
    } finally {
      m.unlockDispatcher();
    }
  },

  /**
   * IRQL ≤ APC_LEVEL, normal kernel APCs disabled. Exclusive access: TRUE when
   * acquired (recursively if the caller is the exclusive owner); with
   * wait = FALSE, FALSE instead of waiting. A shared owner that asks waits forever.
   */
  *ExAcquireResourceExclusiveLite(this: Kernel, resource: PERESOURCE, wait: boolean): Routine<boolean> {
    return yield* acquire(this, resource, wait, 'exclusive', 'ExAcquireResourceExclusiveLite');
  },

  /** ExAcquireResourceExclusiveLite with wait = FALSE. */
  *ExTryToAcquireResourceExclusiveLite(this: Kernel, resource: PERESOURCE): Routine<boolean> {
    return yield* acquire(this, resource, false, 'exclusive', 'ExTryToAcquireResourceExclusiveLite');
  },

  /**
   * IRQL ≤ APC_LEVEL, normal kernel APCs disabled. Shared access; an owner
   * (shared or exclusive) just recurses. A new reader waits while a writer
   * waits, so writers are not starved.
   */
  *ExAcquireResourceSharedLite(this: Kernel, resource: PERESOURCE, wait: boolean): Routine<boolean> {
    return yield* acquire(this, resource, wait, 'shared', 'ExAcquireResourceSharedLite');
  },

  /** As ExAcquireResourceSharedLite, but readers get in even while writers wait (writers can starve). */
  *ExAcquireSharedStarveExclusive(this: Kernel, resource: PERESOURCE, wait: boolean): Routine<boolean> {
    return yield* acquire(this, resource, wait, 'starve', 'ExAcquireSharedStarveExclusive');
  },

  /** As ExAcquireResourceSharedLite, but while writers wait even a shared owner waits for them. */
  *ExAcquireSharedWaitForExclusive(this: Kernel, resource: PERESOURCE, wait: boolean): Routine<boolean> {
    return yield* acquire(this, resource, wait, 'wait-for-exclusive', 'ExAcquireSharedWaitForExclusive');
  },

  /** KeEnterCriticalRegion, then ExAcquireResourceExclusiveLite(resource, TRUE). */
  *ExEnterCriticalRegionAndAcquireResourceExclusive(this: Kernel, resource: PERESOURCE): Routine<boolean> {
    yield* this.KeEnterCriticalRegion();
    return yield* acquire(this, resource, true, 'exclusive', 'ExEnterCriticalRegionAndAcquireResourceExclusive');
  },

  /** KeEnterCriticalRegion, then ExAcquireResourceSharedLite(resource, TRUE). */
  *ExEnterCriticalRegionAndAcquireResourceShared(this: Kernel, resource: PERESOURCE): Routine<boolean> {
    yield* this.KeEnterCriticalRegion();
    return yield* acquire(this, resource, true, 'shared', 'ExEnterCriticalRegionAndAcquireResourceShared');
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. Releases one level of the caller's ownership; the
   * last one passes the resource on (readers first after a writer, a writer
   * after the last reader). A caller that does not own it: RESOURCE_NOT_OWNED.
   */
  *ExReleaseResourceLite(this: Kernel, resource: PERESOURCE): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExReleaseResourceLite');
    yield m.at(OP_KERNEL, resource);
    m.lockDispatcher();
    try {
      const r = resourceAt(this, resource, 'ExReleaseResourceLite');
      const t = currentThread(ctx, 'ExReleaseResourceLite');
      const count = r.ownerCount(t);
      if (count === 0) {
        throw new BugCheck(
          0xe3, resource * 4, t.kthread * 4, 0, 3,
          `thread '${t.name}' releases ${m.nameOf(resource)}, which it does not own (${describeOwners(r)})`,
        );
      }
      checkApcs(this, ctx, t, resource, 0x38, 'ExReleaseResourceLite');
      if (count > 1) r.setOwner(t, count - 1);
      else {
        r.setOwner(t, 0);
        const wasExclusive = r.exclusive;
        if (wasExclusive || r.ownerTotal === 0) grantNext(this, r, wasExclusive);
      }
      sync(this, r);
    } finally {
      m.unlockDispatcher();
    }
    ctx.apiStack.pop();
  },

  /** ExReleaseResourceLite, then KeLeaveCriticalRegion. */
  *ExReleaseResourceAndLeaveCriticalRegion(this: Kernel, resource: PERESOURCE): Routine<void> {
    yield* this.ExReleaseResourceLite(resource);
    yield* this.KeLeaveCriticalRegion();
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. The exclusive owner keeps the resource shared
   * instead, and every queued reader is admitted with it.
   */
  *ExConvertExclusiveToSharedLite(this: Kernel, resource: PERESOURCE): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExConvertExclusiveToSharedLite');
    yield m.at(OP_KERNEL, resource);
    m.lockDispatcher();
    try {
      const r = resourceAt(this, resource, 'ExConvertExclusiveToSharedLite');
      const t = currentThread(ctx, 'ExConvertExclusiveToSharedLite');
      if (!r.exclusive || r.exclusiveOwner !== t) {
        throw new BugCheck(0xe3, resource * 4, t.kthread * 4, 0, 3, `ExConvertExclusiveToSharedLite: thread '${t.name}' does not own ${m.nameOf(resource)} exclusive (${describeOwners(r)})`);
      }
      r.exclusive = false;
      r.exclusiveOwner = null;
      if (r.sharedWaiterTotal > 0) admitShared(this, r);
      sync(this, r);
    } finally {
      m.unlockDispatcher();
    }
    ctx.apiStack.pop();
  },

  /** IRQL ≤ DISPATCH_LEVEL. TRUE when the caller owns the resource exclusive. */
  ExIsResourceAcquiredExclusiveLite(this: Kernel, resource: PERESOURCE): boolean {
    const r = resourceAt(this, resource, 'ExIsResourceAcquiredExclusiveLite');
    const t = this.m.cur.thread;
    return r.exclusive && t !== null && r.exclusiveOwner === t;
  },

  /** IRQL ≤ DISPATCH_LEVEL. How many times the caller holds the resource, shared or exclusive (0: not at all). */
  ExIsResourceAcquiredSharedLite(this: Kernel, resource: PERESOURCE): number {
    const r = resourceAt(this, resource, 'ExIsResourceAcquiredSharedLite');
    const t = this.m.cur.thread;
    return t === null ? 0 : r.ownerCount(t);
  },

  /** IRQL ≤ DISPATCH_LEVEL. Threads waiting for exclusive access. */
  *ExGetExclusiveWaiterCount(this: Kernel, resource: PERESOURCE): Routine<number> {
    const m = this.m;
    yield m.at(OP_READ, resource + RES_EXCLUSIVE_WAITERS);
    resourceAt(this, resource, 'ExGetExclusiveWaiterCount');
    return m.read(resource + RES_EXCLUSIVE_WAITERS);
  },

  /** IRQL ≤ DISPATCH_LEVEL. Threads waiting for shared access. */
  *ExGetSharedWaiterCount(this: Kernel, resource: PERESOURCE): Routine<number> {
    const m = this.m;
    yield m.at(OP_READ, resource + RES_SHARED_WAITERS);
    resourceAt(this, resource, 'ExGetSharedWaiterCount');
    return m.read(resource + RES_SHARED_WAITERS);
  },
};

export type EresourceApi = typeof eresourceApi;
