/**
 * Dispatcher objects (KEVENT, KMUTEX, KSEMAPHORE) and the routines that wait
 * on them (nt-semantics section 4). Their layout is in dispatcher-object.ts;
 * waiting and waking (wait lists, KiWaitTest) are the wait engine, wait.ts.
 *
 * Every state change happens in one step under the dispatcher lock
 * (Machine.lockDispatcher), so a signal is never lost between a waiter's test
 * and its block. Waking goes through KiWaitTest: the wait list is walked in
 * FIFO order while the object stays signalled.
 *
 * Checked build: waiting from a DPC is ATTEMPTED_SWITCH_FROM_DPC (0xB8) at
 * once; from a thread at DISPATCH_LEVEL with no timeout 0xC4/0x121, with a
 * non-zero one 0xC4/0x122; above DISPATCH_LEVEL 0xC4/0x120. Free build: the
 * wait goes ahead (a DPC that would block still hits 0xB8 in the dispatcher;
 * a thread holding a spin lock blocks with it held).
 */
import { BugCheck, RaisedException, ScenarioError, verifierViolation } from '../machine/bugcheck.ts';
import type { ExecContext, Thread } from '../machine/cpu.ts';
import { APC_LEVEL, DISPATCH_LEVEL, irqlName } from '../machine/irql.ts';
import { OP_KERNEL, OP_PAUSE, OP_READ, OP_WAIT, type Routine } from '../machine/ops.ts';
import {
  DH_SIGNAL_STATE, DISPATCHER_OBJECT_WORDS, dstate, EventNotificationObject, EventSynchronizationObject, MutantObject,
  MUTANT_APC_DISABLE, MUTANT_OWNER_THREAD, mutexOwner, objectAt, SemaphoreObject, SEMAPHORE_LIMIT, writeHeader,
} from './dispatcher-object.ts';
import type { Kernel } from './kernel.ts';
import { deliverApcs } from './regions.ts';
import {
  MAXIMUM_WAIT_OBJECTS, NotificationEvent, STATUS_MUTANT_NOT_OWNED, STATUS_SEMAPHORE_LIMIT_EXCEEDED, STATUS_SUCCESS,
  SynchronizationEvent, THREAD_WAIT_OBJECTS, WaitAll,
} from './status.ts';
import { beginWait, checkWaitIrql, type PTIMEOUT, WAIT_BLOCKED, waitersOf, waitResult, waitTest } from './wait.ts';

export {
  DH_SIGNAL_STATE, DH_TYPE, DISPATCHER_OBJECT_WORDS, EventNotificationObject, EventSynchronizationObject, MutantObject,
  MUTANT_APC_DISABLE, MUTANT_OWNER_THREAD, SemaphoreObject, SEMAPHORE_LIMIT,
} from './dispatcher-object.ts';
export type { PTIMEOUT } from './wait.ts';

export type PKEVENT = number;
export type PKMUTEX = number;
export type PKSEMAPHORE = number;

/**
 * Any IRQL. Initializes the dispatcher object at `addr` (KeInitializeEvent and the others, and the
 * objects embedded in ERESOURCEs and fast mutexes). Initializing it again while threads wait on it
 * corrupts its wait list: 0x139/3.
 */
export function initDispatcherObject(k: Kernel, addr: number, type: number, signal: number): void {
  const st = dstate(k);
  if (st.objects.has(addr)) {
    const n = waitersOf(k, addr).length;
    if (n > 0) throw new BugCheck(0x139, 3, 0, 0, 0, `${k.m.nameOf(addr)} was initialized again while ${n} thread(s) wait on it: the wait list is corrupted`);
  }
  writeHeader(k, addr, type, signal);
}

/** KeSetEvent without the scheduling point (≤ DISPATCH_LEVEL): signals, wakes waiters, returns the previous state. */
export function setEventNow(k: Kernel, event: number): number {
  const m = k.m;
  const type = objectAt(k, event, 'KeSetEvent');
  const a = event + DH_SIGNAL_STATE;
  m.lockDispatcher();
  try {
    const old = m.read(a);
    if (type === EventNotificationObject && old !== 0) return old;
    m.write(a, 1);
    if (old === 0) waitTest(k, event, type);
    return old;
  } finally {
    m.unlockDispatcher();
  }
}

/** KeReleaseSemaphore without the scheduling point (≤ DISPATCH_LEVEL); raises STATUS_SEMAPHORE_LIMIT_EXCEEDED past the limit. */
export function releaseSemaphoreNow(k: Kernel, sem: number, adjustment: number): number {
  const m = k.m;
  const type = objectAt(k, sem, 'KeReleaseSemaphore');
  const a = sem + DH_SIGNAL_STATE;
  m.lockDispatcher();
  try {
    const old = m.read(a);
    const limit = m.read(sem + SEMAPHORE_LIMIT);
    const next = old + adjustment;
    if (next > limit || next > 0x7fffffff || adjustment < 0) {
      throw new RaisedException(STATUS_SEMAPHORE_LIMIT_EXCEEDED, `KeReleaseSemaphore: ${m.nameOf(sem)} count ${old} + ${adjustment} exceeds its limit ${limit} (STATUS_SEMAPHORE_LIMIT_EXCEEDED raised)`);
    }
    m.write(a, next);
    if (old === 0) waitTest(k, sem, type);
    return old;
  } finally {
    m.unlockDispatcher();
  }
}

/** The current thread, for APIs that need one. */
function waitingThread(ctx: ExecContext): Thread | null {
  return ctx.thread;
}

/** Verifier's lock-order graph for a mutex about to be acquired (checked build). */
function mutexOrderCheck(k: Kernel, ctx: ExecContext, objects: readonly number[]): void {
  if (!k.m.checked) return;
  const st = dstate(k);
  const t = ctx.thread;
  for (const a of objects) {
    if (st.objects.get(a) !== MutantObject || mutexOwner(k, a) === t) continue;
    const v = k.verifier.onAcquire(ctx.heldLocks, a, t?.kthread ?? 0, (x) => k.m.nameOf(x));
    if (v) throw v;
  }
}

export const dispatcherApi = {
  // ---- events --------------------------------------------------------------------------------

  /**
   * Any IRQL. Initializes a KEVENT (NotificationEvent or SynchronizationEvent)
   * signalled or not; storage is allocated when `event` is omitted. Returns its address.
   */
  KeInitializeEvent(this: Kernel, type: number, state: boolean, event?: PKEVENT): PKEVENT {
    if (type !== NotificationEvent && type !== SynchronizationEvent) throw new ScenarioError(`KeInitializeEvent: type must be NotificationEvent or SynchronizationEvent (got ${type})`);
    const a = event ?? this.m.memory.alloc(DISPATCHER_OBJECT_WORDS, 'KEVENT');
    initDispatcherObject(this, a, type === NotificationEvent ? EventNotificationObject : EventSynchronizationObject, state ? 1 : 0);
    return a;
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL (≤ APC_LEVEL with Wait = TRUE; checked: DDI rule
   * IrqlKeSetEvent 0xC4/0x00020016). Signals the event; returns the previous
   * state. A notification event wakes every waiter and stays signalled; a
   * synchronization event wakes the first waiter, which consumes the signal.
   * Wait = TRUE does not keep the dispatcher lock into the next wait here.
   */
  *KeSetEvent(this: Kernel, event: PKEVENT, _increment = 0, wait = false): Routine<number> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeSetEvent');
    yield m.at(OP_KERNEL, event);
    if (m.checked && ctx.cpu.irql > DISPATCH_LEVEL) throw verifierViolation(0x80, ctx.cpu.irql, event * 4, 0);
    if (m.checked && wait && ctx.cpu.irql > APC_LEVEL) {
      throw verifierViolation(0x00020016, ctx.cpu.irql, event * 4, 0, `KeSetEvent(${m.nameOf(event)}, Wait = TRUE) at ${irqlName(ctx.cpu.irql)}: the next call must be a wait, allowed only at IRQL <= APC_LEVEL`);
    }
    const old = setEventNow(this, event);
    ctx.apiStack.pop();
    return old;
  },

  /** IRQL ≤ DISPATCH_LEVEL. Sets the event not signalled; returns the previous state. */
  *KeResetEvent(this: Kernel, event: PKEVENT): Routine<number> {
    const m = this.m;
    yield m.at(OP_KERNEL, event);
    objectAt(this, event, 'KeResetEvent');
    m.lockDispatcher();
    try {
      const old = m.read(event + DH_SIGNAL_STATE);
      m.write(event + DH_SIGNAL_STATE, 0);
      return old;
    } finally {
      m.unlockDispatcher();
    }
  },

  /** Any IRQL ≤ DISPATCH_LEVEL. Sets the event not signalled. */
  *KeClearEvent(this: Kernel, event: PKEVENT): Routine<void> {
    const m = this.m;
    yield m.at(OP_KERNEL, event);
    objectAt(this, event, 'KeClearEvent');
    m.lockDispatcher();
    try {
      m.write(event + DH_SIGNAL_STATE, 0);
    } finally {
      m.unlockDispatcher();
    }
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. If the event is not signalled and has waiters, wakes
   * them as KeSetEvent would; the event is left not signalled either way.
   * Returns the previous state.
   */
  *KePulseEvent(this: Kernel, event: PKEVENT, _increment = 0, _wait = false): Routine<number> {
    const m = this.m;
    yield m.at(OP_KERNEL, event);
    const type = objectAt(this, event, 'KePulseEvent');
    m.lockDispatcher();
    try {
      const old = m.read(event + DH_SIGNAL_STATE);
      if (old === 0 && waitersOf(this, event).length > 0) {
        m.write(event + DH_SIGNAL_STATE, 1);
        waitTest(this, event, type);
      }
      m.write(event + DH_SIGNAL_STATE, 0);
      return old;
    } finally {
      m.unlockDispatcher();
    }
  },

  /** Any IRQL. The current state (1 signalled, 0 not). */
  *KeReadStateEvent(this: Kernel, event: PKEVENT): Routine<number> {
    const m = this.m;
    yield m.at(OP_READ, event + DH_SIGNAL_STATE);
    return m.read(event + DH_SIGNAL_STATE);
  },

  // ---- mutexes -------------------------------------------------------------------------------

  /**
   * IRQL ≤ DISPATCH_LEVEL. Initializes a KMUTEX, free. Acquired with a wait;
   * recursive for its owner; holding it puts the owner in a critical region.
   */
  KeInitializeMutex(this: Kernel, _level = 0, mutex?: PKMUTEX): PKMUTEX {
    const a = mutex ?? this.m.memory.alloc(DISPATCHER_OBJECT_WORDS, 'KMUTEX');
    initDispatcherObject(this, a, MutantObject, 1);
    this.m.words[a + MUTANT_OWNER_THREAD] = 0;
    this.m.words[a + MUTANT_APC_DISABLE] = 1;
    return a;
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. The owner releases one level of ownership; at the
   * last one the mutex is free, waiters are tested and normal kernel APCs are
   * re-enabled. A non-owner raises STATUS_MUTANT_NOT_OWNED. Returns the previous state.
   */
  *KeReleaseMutex(this: Kernel, mutex: PKMUTEX, _wait = false): Routine<number> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeReleaseMutex');
    yield m.at(OP_KERNEL, mutex);
    const type = objectAt(this, mutex, 'KeReleaseMutex');
    const t = waitingThread(ctx);
    let old: number;
    let left = false;
    m.lockDispatcher();
    try {
      old = m.read(mutex + DH_SIGNAL_STATE);
      const owner = mutexOwner(this, mutex);
      if (owner === null || owner !== t) {
        ctx.apiStack.pop();
        throw new RaisedException(
          STATUS_MUTANT_NOT_OWNED,
          `KeReleaseMutex: ${m.nameOf(mutex)} is ${owner ? `owned by thread '${owner.name}'` : 'not owned'}, not by ${ctx.kind} '${ctx.name}' (STATUS_MUTANT_NOT_OWNED raised)`,
        );
      }
      const next = old + 1;
      m.write(mutex + DH_SIGNAL_STATE, next);
      if (next === 1) {
        m.write(mutex + MUTANT_OWNER_THREAD, 0);
        const i = t.ctx.heldLocks.lastIndexOf(mutex);
        if (i >= 0) t.ctx.heldLocks.splice(i, 1);
        waitTest(this, mutex, type);
        t.kernelApcDisable += m.read(mutex + MUTANT_APC_DISABLE);
        left = t.kernelApcDisable === 0;
      }
    } finally {
      m.unlockDispatcher();
    }
    ctx.apiStack.pop();
    if (left) yield* deliverApcs(this);
    return old;
  },

  /** Any IRQL. 1 when free; 0 or below when owned (minus the recursion depth). */
  *KeReadStateMutex(this: Kernel, mutex: PKMUTEX): Routine<number> {
    const m = this.m;
    yield m.at(OP_READ, mutex + DH_SIGNAL_STATE);
    return m.read(mutex + DH_SIGNAL_STATE);
  },

  // ---- semaphores ----------------------------------------------------------------------------

  /** Any IRQL. Initializes a KSEMAPHORE with `count` and `limit`. */
  KeInitializeSemaphore(this: Kernel, count: number, limit: number, semaphore?: PKSEMAPHORE): PKSEMAPHORE {
    if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(count) || count < 0 || count > limit) {
      throw new ScenarioError(`KeInitializeSemaphore: need 0 ≤ count ≤ limit and limit ≥ 1 (got count ${count}, limit ${limit})`);
    }
    const a = semaphore ?? this.m.memory.alloc(DISPATCHER_OBJECT_WORDS, 'KSEMAPHORE');
    initDispatcherObject(this, a, SemaphoreObject, count);
    this.m.words[a + SEMAPHORE_LIMIT] = limit;
    return a;
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. Adds `adjustment` to the count and satisfies waiters
   * while it stays positive; returns the previous count. Past the limit it
   * raises STATUS_SEMAPHORE_LIMIT_EXCEEDED and changes nothing.
   */
  *KeReleaseSemaphore(this: Kernel, semaphore: PKSEMAPHORE, _increment = 0, adjustment = 1, _wait = false): Routine<number> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeReleaseSemaphore');
    yield m.at(OP_KERNEL, semaphore);
    try {
      return releaseSemaphoreNow(this, semaphore, adjustment);
    } finally {
      ctx.apiStack.pop();
    }
  },

  /** Any IRQL. The current count. */
  *KeReadStateSemaphore(this: Kernel, semaphore: PKSEMAPHORE): Routine<number> {
    const m = this.m;
    yield m.at(OP_READ, semaphore + DH_SIGNAL_STATE);
    return m.read(semaphore + DH_SIGNAL_STATE);
  },

  // ---- waits ---------------------------------------------------------------------------------

  /**
   * IRQL ≤ APC_LEVEL, or ≤ DISPATCH_LEVEL with a zero timeout. Waits until the
   * object is signalled (consuming a synchronization event, a semaphore unit
   * or mutex ownership): STATUS_SUCCESS, or STATUS_TIMEOUT when the timeout
   * expires first (a zero timeout polls).
   */
  *KeWaitForSingleObject(
    this: Kernel, object: number, _waitReason = 0, _waitMode = 0, _alertable = false, timeout: PTIMEOUT = null,
  ): Routine<number> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeWaitForSingleObject');
    yield m.at(OP_KERNEL, object);
    checkWaitIrql(this, ctx, timeout, object);
    mutexOrderCheck(this, ctx, [object]);
    let status = beginWait(this, ctx, [object], false, timeout);
    if (status === WAIT_BLOCKED) {
      yield m.at(OP_WAIT, object);
      status = waitResult(this, ctx);
    }
    ctx.apiStack.pop();
    yield* deliverApcs(this);
    return status;
  },

  /**
   * As KeWaitForSingleObject, over `count` objects. WaitAny: STATUS_WAIT_0 + the
   * index of the first signalled object (only its side effect applies).
   * WaitAll: STATUS_SUCCESS once all are signalled at the same time (all side
   * effects apply together). More than THREAD_WAIT_OBJECTS (3) without a wait
   * block array, or more than 64, is MAXIMUM_WAIT_OBJECTS_EXCEEDED (0x0C).
   */
  *KeWaitForMultipleObjects(
    this: Kernel, count: number, objects: readonly number[], waitType: number, _waitReason = 0, _waitMode = 0,
    _alertable = false, timeout: PTIMEOUT = null, waitBlockArray = 0,
  ): Routine<number> {
    const m = this.m;
    const ctx = m.cur;
    if (count !== objects.length) throw new ScenarioError(`KeWaitForMultipleObjects: Count is ${count} but ${objects.length} objects were passed`);
    ctx.apiStack.push('KeWaitForMultipleObjects');
    yield m.at(OP_KERNEL, objects[0] ?? 0);
    if (count > MAXIMUM_WAIT_OBJECTS || (count > THREAD_WAIT_OBJECTS && waitBlockArray === 0)) {
      throw new BugCheck(0x0c, count, 0, 0, 0, `${count} objects ${waitBlockArray === 0 ? `without a wait block array (at most ${THREAD_WAIT_OBJECTS})` : `(at most ${MAXIMUM_WAIT_OBJECTS})`}`);
    }
    checkWaitIrql(this, ctx, timeout, objects[0] ?? 0);
    mutexOrderCheck(this, ctx, objects);
    let status = beginWait(this, ctx, objects, waitType === WaitAll, timeout);
    if (status === WAIT_BLOCKED) {
      yield m.at(OP_WAIT, objects[0] ?? 0);
      status = waitResult(this, ctx);
    }
    ctx.apiStack.pop();
    yield* deliverApcs(this);
    return status;
  },

  /**
   * IRQL ≤ APC_LEVEL. Sleeps until the interval expires — an event the strategy
   * decides. A zero interval only yields the processor (a scheduling point).
   */
  *KeDelayExecutionThread(this: Kernel, _waitMode = 0, _alertable = false, interval: number = -1): Routine<number> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeDelayExecutionThread');
    if (interval === 0) {
      yield m.at(OP_PAUSE, 0);
      m.notePause();
      ctx.apiStack.pop();
      return STATUS_SUCCESS;
    }
    yield m.at(OP_KERNEL, 0);
    checkWaitIrql(this, ctx, interval, 0);
    if (beginWait(this, ctx, [], false, interval) === WAIT_BLOCKED) yield m.at(OP_WAIT, 0);
    ctx.apiStack.pop();
    yield* deliverApcs(this);
    return STATUS_SUCCESS;
  },

  /** Waiters currently linked on a dispatcher object (for invariants and tests; not an NT API). */
  dispatcherWaiterCount(this: Kernel, object: number): number {
    objectAt(this, object, 'dispatcherWaiterCount');
    return waitersOf(this, object).length;
  },
};


export type DispatcherApi = typeof dispatcherApi;
