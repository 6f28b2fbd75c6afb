/**
 * Dispatcher objects (KEVENT, KMUTEX, KSEMAPHORE) and waits (nt-semantics section 4).
 *
 * Each object starts with a DISPATCHER_HEADER in machine memory (Type,
 * SignalState); its wait list is a FIFO of wait blocks kept beside it. Every
 * state change and every wait decision happens in one step, which models the
 * dispatcher lock: a waiter tests the object and, if it is not signalled,
 * links its wait blocks and blocks (OP_WAIT) without a gap in which a
 * KeSetEvent could be lost. Waking goes through KiWaitTest: the object's wait
 * list is walked in order while the object stays signalled.
 *
 * Timeouts: a zero timeout is a poll; NULL (null) waits forever; any other
 * value is a finite timeout whose expiry is an asynchronous event the
 * strategy decides (while the thread waits), so STATUS_TIMEOUT replays
 * deterministically. The value itself (100 ns units in NT) is not used.
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
import type { AsyncEvent } from '../machine/machine.ts';
import { OP_KERNEL, OP_PAUSE, OP_READ, OP_WAIT, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';
import { deliverApcs } from './regions.ts';
import {
  MAXIMUM_WAIT_OBJECTS, NotificationEvent, STATUS_MUTANT_NOT_OWNED, STATUS_SEMAPHORE_LIMIT_EXCEEDED, STATUS_SUCCESS,
  STATUS_TIMEOUT, STATUS_WAIT_0, SynchronizationEvent, THREAD_WAIT_OBJECTS, WaitAll,
} from './status.ts';

export type PKEVENT = number;
export type PKMUTEX = number;
export type PKSEMAPHORE = number;
/** A relative timeout: null = wait forever, 0 = poll, anything else = finite (expiry chosen by the strategy). */
export type PTIMEOUT = number | null;

/** DISPATCHER_HEADER and object layouts (words). */
export const DH_TYPE = 0;
export const DH_SIGNAL_STATE = 1;
export const MUTANT_OWNER_THREAD = 2;
export const MUTANT_APC_DISABLE = 3;
export const SEMAPHORE_LIMIT = 2;
export const DISPATCHER_OBJECT_WORDS = 4;

/** DISPATCHER_HEADER.Type values (KOBJECTS). */
export const EventNotificationObject = 0;
export const EventSynchronizationObject = 1;
export const MutantObject = 2;
export const SemaphoreObject = 5;

const TYPE_NAMES: Record<number, string> = { 0: 'notification event', 1: 'synchronization event', 2: 'mutex', 5: 'semaphore' };

/** beginWait's answer when the caller must block: yield OP_WAIT, then read thread.waitStatus. */
export const WAIT_BLOCKED = -1;

interface WaitBlock {
  thread: Thread;
  objects: number[];
  waitAll: boolean;
  active: boolean;
}

class DispatcherObject {
  readonly waiters: WaitBlock[] = [];
  /** Owner of a mutex (mirrors MUTANT_OWNER_THREAD). */
  owner: Thread | null = null;
  constructor(
    readonly addr: number,
    readonly type: number,
  ) {}
}

/** A thread's wait timer: an event the strategy may fire while the thread is in a timed wait. */
class WaitTimer implements AsyncEvent {
  armed = false;
  block: WaitBlock | null = null;
  readonly name: string;
  readonly cpu: number;
  constructor(
    private readonly k: Kernel,
    t: Thread,
  ) {
    this.name = `timeout(${t.name})`;
    this.cpu = t.cpu.index;
  }
  fire(): void {
    const b = this.block;
    this.armed = false;
    if (b !== null && b.active) unwait(this.k, b, STATUS_TIMEOUT);
  }
}

export class DispatcherState {
  readonly objects = new Map<number, DispatcherObject>();
  readonly timers = new Map<Thread, WaitTimer>();
}

function dstate(k: Kernel): DispatcherState {
  return k.perRun('dispatcher', () => new DispatcherState());
}

function objectAt(k: Kernel, addr: number, api: string): DispatcherObject {
  const o = dstate(k).objects.get(addr);
  if (!o) throw new ScenarioError(`${api}: ${k.m.nameOf(addr)} is not a dispatcher object (initialize it with KeInitializeEvent, KeInitializeMutex or KeInitializeSemaphore)`);
  return o;
}

function describe(k: Kernel, o: DispatcherObject): string {
  return `${TYPE_NAMES[o.type] ?? 'object'} ${k.m.nameOf(o.addr)}`;
}

/** Initializes a dispatcher object at `addr` (setup, or re-initialization: with waiters linked that corrupts the wait list). */
export function initDispatcherObject(k: Kernel, addr: number, type: number, signal: number): void {
  const st = dstate(k);
  const old = st.objects.get(addr);
  if (old && old.waiters.length > 0) {
    throw new BugCheck(0x139, 3, 0, 0, 0, `${k.m.nameOf(addr)} was initialized again while ${old.waiters.length} thread(s) wait on it: the wait list is corrupted`);
  }
  k.m.words[addr + DH_TYPE] = type;
  k.m.words[addr + DH_SIGNAL_STATE] = signal;
  st.objects.set(addr, new DispatcherObject(addr, type));
}

function signaledFor(k: Kernel, o: DispatcherObject, t: Thread | null): boolean {
  const s = k.m.read(o.addr + DH_SIGNAL_STATE);
  return s > 0 || (o.type === MutantObject && o.owner === t);
}

/** Applies the side effect of a satisfied wait (KiSatisfyObjectWait). */
function satisfy(k: Kernel, o: DispatcherObject, t: Thread | null): void {
  const m = k.m;
  const a = o.addr + DH_SIGNAL_STATE;
  switch (o.type) {
    case EventSynchronizationObject:
      m.write(a, 0);
      break;
    case SemaphoreObject:
      m.write(a, m.read(a) - 1);
      break;
    case MutantObject: {
      const s = m.read(a) - 1;
      m.write(a, s);
      if (s === 0 && t !== null) {
        o.owner = t;
        m.write(o.addr + MUTANT_OWNER_THREAD, t.kthread);
        t.kernelApcDisable -= m.read(o.addr + MUTANT_APC_DISABLE);
        t.ctx.heldLocks.push(o.addr);
      }
      break;
    }
    default:
      break;
  }
}

function unwait(k: Kernel, b: WaitBlock, status: number): void {
  b.active = false;
  const st = dstate(k);
  for (const a of b.objects) {
    const o = st.objects.get(a);
    if (!o) continue;
    const i = o.waiters.indexOf(b);
    if (i >= 0) o.waiters.splice(i, 1);
  }
  const timer = st.timers.get(b.thread);
  if (timer && timer.block === b) {
    timer.armed = false;
    timer.block = null;
  }
  k.m.readyThread(b.thread, status);
}

/** KiWaitTest: satisfies waiters of `o` in FIFO order while it stays signalled. */
function waitTest(k: Kernel, o: DispatcherObject): void {
  const st = dstate(k);
  const words = k.m.words;
  let i = 0;
  while (i < o.waiters.length) {
    if (words[o.addr + DH_SIGNAL_STATE]! <= 0) break;
    const b = o.waiters[i]!;
    if (b.waitAll) {
      if (b.objects.every((a) => signaledFor(k, st.objects.get(a)!, b.thread))) {
        for (const a of b.objects) satisfy(k, st.objects.get(a)!, b.thread);
        unwait(k, b, STATUS_SUCCESS);
      } else i++;
    } else {
      satisfy(k, o, b.thread);
      unwait(k, b, STATUS_WAIT_0 + b.objects.indexOf(o.addr));
    }
  }
}

/** IRQL and context rules of a wait (checked build), before the objects are looked at. */
export function checkWaitIrql(k: Kernel, ctx: ExecContext, timeout: PTIMEOUT, object: number): void {
  const m = k.m;
  if (!m.checked || timeout === 0) {
    if (m.checked && ctx.cpu.irql > DISPATCH_LEVEL) throw verifierViolation(0x120, ctx.cpu.irql, object * 4, 0);
    return;
  }
  if (ctx.kind !== 'thread') {
    throw new BugCheck(0xb8, ctx.thread?.kthread ?? 0, 0, 0, 0, `${ctx.kind} '${ctx.name}' waits on ${m.nameOf(object)}: a DPC runs at DISPATCH_LEVEL and cannot block`);
  }
  const irql = ctx.cpu.irql;
  if (irql > DISPATCH_LEVEL) throw verifierViolation(0x120, irql, object * 4, 0, `wait on ${m.nameOf(object)} at ${irqlName(irql)}`);
  if (irql === DISPATCH_LEVEL) {
    throw verifierViolation(
      timeout === null ? 0x121 : 0x122, object * 4, 0, 0,
      `wait on ${m.nameOf(object)} at DISPATCH_LEVEL with ${timeout === null ? 'no timeout' : 'a non-zero timeout'}${ctx.heldLocks.length ? ` (holding ${ctx.heldLocks.map((a) => m.nameOf(a)).join(', ')})` : ''}`,
    );
  }
}

/**
 * The dispatcher-lock part of a wait: satisfies it at once if it can, returns
 * STATUS_TIMEOUT for a poll that cannot, and otherwise links the thread's wait
 * blocks, marks it waiting and returns WAIT_BLOCKED — the caller must then
 * `yield m.at(OP_WAIT, addr)` in the same step and read `thread.waitStatus`.
 * `reason`/`owner` describe the wait for hang reports (defaults: the objects, a mutex's owner).
 */
export function beginWait(
  k: Kernel, ctx: ExecContext, objects: readonly number[], waitAll: boolean, timeout: PTIMEOUT,
  reason?: string, owner?: Thread | null,
): number {
  const m = k.m;
  const st = dstate(k);
  const t = ctx.thread;
  const objs = objects.map((a) => objectAt(k, a, 'KeWaitFor*'));
  if (objs.length > 0) {
    if (waitAll) {
      if (objs.every((o) => signaledFor(k, o, t))) {
        for (const o of objs) satisfy(k, o, t);
        return STATUS_SUCCESS;
      }
    } else {
      for (let i = 0; i < objs.length; i++) {
        if (signaledFor(k, objs[i]!, t)) {
          satisfy(k, objs[i]!, t);
          return STATUS_WAIT_0 + i;
        }
      }
    }
  }
  if (timeout === 0) return STATUS_TIMEOUT;
  if (t === null || ctx.kind !== 'thread') {
    const what = reason ?? objs.map((o) => describe(k, o)).join(', ');
    throw new BugCheck(0xb8, t?.kthread ?? 0, 0, 0, 0, `${ctx.kind} '${ctx.name}' would block waiting for ${what || 'a timer'}: a DPC runs at DISPATCH_LEVEL and cannot wait`);
  }
  const b: WaitBlock = { thread: t, objects: objs.map((o) => o.addr), waitAll, active: true };
  for (const o of objs) o.waiters.push(b);
  if (timeout !== null) {
    let timer = st.timers.get(t);
    if (!timer) {
      timer = new WaitTimer(k, t);
      st.timers.set(t, timer);
      m.events.push(timer);
    }
    timer.block = b;
    timer.armed = true;
  }
  t.state = 'waiting';
  t.waitReason = reason ?? (objs.length === 0 ? 'its KeDelayExecutionThread interval to expire' : objs.map((o) => describe(k, o)).join(waitAll ? ' and ' : ' or '));
  if (owner !== undefined) t.waitOwner = owner;
  else if (objs.length === 1 && objs[0]!.type === MutantObject) t.waitOwner = objs[0]!.owner;
  return WAIT_BLOCKED;
}

/** KeSetEvent without the scheduling point: signals, wakes waiters, returns the previous state. */
export function setEventNow(k: Kernel, event: number): number {
  const m = k.m;
  const o = objectAt(k, event, 'KeSetEvent');
  const a = event + DH_SIGNAL_STATE;
  const old = m.read(a);
  if (o.type === EventNotificationObject && old !== 0) return old;
  m.write(a, 1);
  if (old === 0 && o.waiters.length > 0) waitTest(k, o);
  return old;
}

/** KeReleaseSemaphore without the scheduling point; raises STATUS_SEMAPHORE_LIMIT_EXCEEDED past the limit. */
export function releaseSemaphoreNow(k: Kernel, sem: number, adjustment: number): number {
  const m = k.m;
  const o = objectAt(k, sem, 'KeReleaseSemaphore');
  const a = sem + DH_SIGNAL_STATE;
  const old = m.read(a);
  const limit = m.read(sem + SEMAPHORE_LIMIT);
  const next = old + adjustment;
  if (next > limit || next > 0x7fffffff || adjustment < 0) {
    throw new RaisedException(STATUS_SEMAPHORE_LIMIT_EXCEEDED, `KeReleaseSemaphore: ${m.nameOf(sem)} count ${old} + ${adjustment} exceeds its limit ${limit} (STATUS_SEMAPHORE_LIMIT_EXCEEDED raised)`);
  }
  m.write(a, next);
  if (old === 0 && o.waiters.length > 0) waitTest(k, o);
  return old;
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
    const o = st.objects.get(a);
    if (!o || o.type !== MutantObject || o.owner === t) continue;
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
    const old = m.read(event + DH_SIGNAL_STATE);
    m.write(event + DH_SIGNAL_STATE, 0);
    return old;
  },

  /** Any IRQL ≤ DISPATCH_LEVEL. Sets the event not signalled. */
  *KeClearEvent(this: Kernel, event: PKEVENT): Routine<void> {
    const m = this.m;
    yield m.at(OP_KERNEL, event);
    objectAt(this, event, 'KeClearEvent');
    m.write(event + DH_SIGNAL_STATE, 0);
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. If the event is not signalled and has waiters, wakes
   * them as KeSetEvent would; the event is left not signalled either way.
   * Returns the previous state.
   */
  *KePulseEvent(this: Kernel, event: PKEVENT, _increment = 0, _wait = false): Routine<number> {
    const m = this.m;
    yield m.at(OP_KERNEL, event);
    const o = objectAt(this, event, 'KePulseEvent');
    const old = m.read(event + DH_SIGNAL_STATE);
    if (old === 0 && o.waiters.length > 0) {
      m.write(event + DH_SIGNAL_STATE, 1);
      waitTest(this, o);
    }
    m.write(event + DH_SIGNAL_STATE, 0);
    return old;
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
    const o = objectAt(this, mutex, 'KeReleaseMutex');
    const t = waitingThread(ctx);
    const old = m.read(mutex + DH_SIGNAL_STATE);
    if (o.owner === null || o.owner !== t) {
      ctx.apiStack.pop();
      throw new RaisedException(
        STATUS_MUTANT_NOT_OWNED,
        `KeReleaseMutex: ${m.nameOf(mutex)} is ${o.owner ? `owned by thread '${o.owner.name}'` : 'not owned'}, not by ${ctx.kind} '${ctx.name}' (STATUS_MUTANT_NOT_OWNED raised)`,
      );
    }
    const next = old + 1;
    m.write(mutex + DH_SIGNAL_STATE, next);
    let left = false;
    if (next === 1) {
      o.owner = null;
      m.write(mutex + MUTANT_OWNER_THREAD, 0);
      const i = t.ctx.heldLocks.lastIndexOf(mutex);
      if (i >= 0) t.ctx.heldLocks.splice(i, 1);
      if (o.waiters.length > 0) waitTest(this, o);
      t.kernelApcDisable += m.read(mutex + MUTANT_APC_DISABLE);
      left = t.kernelApcDisable === 0;
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
      status = ctx.thread!.waitStatus;
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
      status = ctx.thread!.waitStatus;
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
    return objectAt(this, object, 'dispatcherWaiterCount').waiters.length;
  },
};


export type DispatcherApi = typeof dispatcherApi;
