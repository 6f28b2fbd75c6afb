/**
 * Dispatcher objects (KEVENT, KMUTEX, KSEMAPHORE) and waits (nt-semantics section 4).
 *
 * Each object starts with a DISPATCHER_HEADER in machine memory (Type,
 * SignalState); a waiting thread's wait block is in its KTHREAD, and an
 * object's wait list is the threads whose wait names it, in the order their
 * waits began (FIFO). Every state change and every wait decision happens in
 * one step, which models the dispatcher lock (free-run: Machine.lockDispatcher
 * serializes it between CPU workers): a waiter tests the object and, if it is
 * not signalled, links its wait block and blocks (OP_WAIT) without a gap in
 * which a KeSetEvent could be lost. Waking goes through KiWaitTest: the wait
 * list is walked in order while the object stays signalled.
 *
 * Timeouts: a zero timeout is a poll; NULL (null) waits forever; any other
 * value is a finite timeout whose expiry is an asynchronous event the
 * strategy decides (while the thread waits), so STATUS_TIMEOUT replays
 * deterministically. The value itself (100 ns units in NT) is not used.
 * Free-run fires them when the waiter's CPU has idled a little (FreeCpu.expireTimer).
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
import { KS_ACTIVE_WAITS, KS_WAIT_SEQUENCE } from './shared-words.ts';
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

/**
 * A thread's wait block lives in its KTHREAD (machine memory), so that a processor that signals
 * an object can find and wake a waiter that another processor runs (free-run: another worker).
 * There is no per-object list: an object's waiters are the threads whose active wait names it,
 * in the order their waits began (KT_WAIT_SEQUENCE) — the FIFO order of NT's wait list.
 */
/** 1 while the wait is linked (a waker clears it when it satisfies or times out the wait). */
export const KT_WAIT_ACTIVE = 0;
/** Order in which waits began (from a counter every processor shares). */
export const KT_WAIT_SEQUENCE = 1;
export const KT_WAIT_ALL = 2;
export const KT_WAIT_COUNT = 3;
/** Address of the array of objects waited on (KT_WAIT_INLINE, or a pool block for longer waits). */
export const KT_WAIT_OBJECTS = 4;
/** 1 when a waker on another CPU worker gave the thread a mutex: the thread accounts for it itself on resumption. */
export const KT_WAIT_GRANTED = 5;
/** Objects of a wait of up to INLINE_WAIT_OBJECTS objects, in the KTHREAD itself. */
export const KT_WAIT_INLINE = 8;
const KTHREAD_WORDS = 16;
const INLINE_WAIT_OBJECTS = KTHREAD_WORDS - KT_WAIT_INLINE;


/** A thread's wait timer: an event the strategy may fire while the thread is in a timed wait. */
class WaitTimer implements AsyncEvent {
  armed = false;
  /** KT_WAIT_SEQUENCE of the wait it times. */
  sequence = 0;
  readonly name: string;
  readonly cpu: number;
  constructor(
    private readonly k: Kernel,
    private readonly t: Thread,
  ) {
    this.name = `timeout(${t.name})`;
    this.cpu = t.cpu.index;
  }
  fire(): void {
    const k = this.k;
    const w = k.m.words;
    const kt = this.t.kthread;
    this.armed = false;
    k.m.lockDispatcher();
    try {
      if (w[kt + KT_WAIT_ACTIVE] === 1 && w[kt + KT_WAIT_SEQUENCE] === this.sequence) unwait(k, this.t, STATUS_TIMEOUT);
    } finally {
      k.m.unlockDispatcher();
    }
  }
}

export class DispatcherState {
  /** Type of each initialized dispatcher object (every CPU worker runs setup, so each knows setup's objects). */
  readonly objects = new Map<number, number>();
  readonly timers = new Map<Thread, WaitTimer>();
}

function dstate(k: Kernel): DispatcherState {
  return k.perRun('dispatcher', () => new DispatcherState());
}

function objectAt(k: Kernel, addr: number, api: string): number {
  const type = dstate(k).objects.get(addr);
  if (type !== undefined) return type;
  const m = k.m;
  // Free-run: an object another CPU initialized while the actors ran is known only by its header.
  if (m.sharedAcrossWorkers && addr > 0 && addr < m.memory.size && m.shadow[addr] === 1) {
    const t = m.words[addr + DH_TYPE]!;
    if (TYPE_NAMES[t] !== undefined) {
      dstate(k).objects.set(addr, t);
      return t;
    }
  }
  throw new ScenarioError(`${api}: ${m.nameOf(addr)} is not a dispatcher object (initialize it with KeInitializeEvent, KeInitializeMutex or KeInitializeSemaphore)`);
}

function describe(k: Kernel, addr: number, type: number): string {
  return `${TYPE_NAMES[type] ?? 'object'} ${k.m.nameOf(addr)}`;
}

/** The thread whose KTHREAD is at `kthread` (every CPU worker has every thread object). */
export function threadAt(k: Kernel, kthread: number): Thread | null {
  if (kthread === 0) return null;
  for (const t of k.m.threads) if (t.kthread === kthread) return t;
  return null;
}

/** Owner of a mutex (MUTANT_OWNER_THREAD). */
function mutexOwner(k: Kernel, mutex: number): Thread | null {
  return threadAt(k, k.m.words[mutex + MUTANT_OWNER_THREAD]!);
}

function waitObjects(k: Kernel, t: Thread): Int32Array<ArrayBufferLike> {
  const w = k.m.words;
  const base = w[t.kthread + KT_WAIT_OBJECTS]!;
  return w.subarray(base, base + w[t.kthread + KT_WAIT_COUNT]!);
}

const NO_WAITERS: Thread[] = [];

/** Threads whose active wait names `addr`, in the order their waits began. */
function waitersOf(k: Kernel, addr: number): Thread[] {
  // Most signals find nobody waiting at all: no scan, no allocation.
  if (k.m.kernelShared[KS_ACTIVE_WAITS] === 0) return NO_WAITERS;
  const w = k.m.words;
  let out = NO_WAITERS;
  for (const t of k.m.threads) {
    const kt = t.kthread;
    if (w[kt + KT_WAIT_ACTIVE] !== 1) continue;
    const base = w[kt + KT_WAIT_OBJECTS]!;
    const n = w[kt + KT_WAIT_COUNT]!;
    for (let i = 0; i < n; i++) {
      if (w[base + i] === addr) {
        if (out === NO_WAITERS) out = [];
        out.push(t);
        break;
      }
    }
  }
  if (out.length > 1) out.sort((a, b) => w[a.kthread + KT_WAIT_SEQUENCE]! - w[b.kthread + KT_WAIT_SEQUENCE]!);
  return out;
}

/** Initializes a dispatcher object at `addr` (setup, or re-initialization: with waiters linked that corrupts the wait list). */
export function initDispatcherObject(k: Kernel, addr: number, type: number, signal: number): void {
  const st = dstate(k);
  if (st.objects.has(addr)) {
    const n = waitersOf(k, addr).length;
    if (n > 0) throw new BugCheck(0x139, 3, 0, 0, 0, `${k.m.nameOf(addr)} was initialized again while ${n} thread(s) wait on it: the wait list is corrupted`);
  }
  k.m.words[addr + DH_TYPE] = type;
  k.m.words[addr + DH_SIGNAL_STATE] = signal;
  st.objects.set(addr, type);
}

function signaledFor(k: Kernel, addr: number, type: number, t: Thread | null): boolean {
  const s = k.m.read(addr + DH_SIGNAL_STATE);
  return s > 0 || (type === MutantObject && mutexOwner(k, addr) === t);
}

/** The owner's side of acquiring a mutex: normal kernel APCs off, and it counts as a held lock. */
function accountMutex(k: Kernel, mutex: number, t: Thread): void {
  t.kernelApcDisable -= k.m.read(mutex + MUTANT_APC_DISABLE);
  t.ctx.heldLocks.push(mutex);
}

/** Applies the side effect of a satisfied wait (KiSatisfyObjectWait). */
function satisfy(k: Kernel, addr: number, type: number, t: Thread | null): void {
  const m = k.m;
  const a = addr + DH_SIGNAL_STATE;
  switch (type) {
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
        m.write(addr + MUTANT_OWNER_THREAD, t.kthread);
        // Thread fields belong to the worker that runs the thread: it accounts when it resumes.
        if (m.runsThread(t)) accountMutex(k, addr, t);
        else m.words[t.kthread + KT_WAIT_GRANTED] = 1;
      }
      break;
    }
    default:
      break;
  }
}

function unwait(k: Kernel, t: Thread, status: number): void {
  const w = k.m.words;
  w[t.kthread + KT_WAIT_ACTIVE] = 0;
  k.m.kernelShared[KS_ACTIVE_WAITS]!--;
  const timer = dstate(k).timers.get(t);
  if (timer && timer.sequence === w[t.kthread + KT_WAIT_SEQUENCE]) timer.armed = false;
  k.m.readyThread(t, status);
}

/** KiWaitTest: satisfies waiters of the object in FIFO order while it stays signalled. Dispatcher lock held. */
function waitTest(k: Kernel, addr: number, type: number): void {
  const words = k.m.words;
  const st = dstate(k);
  for (const t of waitersOf(k, addr)) {
    if (words[addr + DH_SIGNAL_STATE]! <= 0) break;
    const objects = waitObjects(k, t);
    if (words[t.kthread + KT_WAIT_ALL] === 1) {
      const types = Array.from(objects, (a) => st.objects.get(a) ?? words[a + DH_TYPE]!);
      if (types.every((ty, i) => signaledFor(k, objects[i]!, ty, t))) {
        for (let i = 0; i < types.length; i++) satisfy(k, objects[i]!, types[i]!, t);
        unwait(k, t, STATUS_SUCCESS);
      }
    } else {
      satisfy(k, addr, type, t);
      unwait(k, t, STATUS_WAIT_0 + objects.indexOf(addr));
    }
  }
}

/**
 * The status a thread's wait ended with, read when it runs again. If a processor that another CPU
 * worker drives gave it mutexes, the thread accounts for them here (on the same processor, the
 * waker did that already).
 */
export function waitResult(k: Kernel, ctx: ExecContext): number {
  const t = ctx.thread!;
  const status = t.waitStatus;
  const w = k.m.words;
  const kt = t.kthread;
  if (w[kt + KT_WAIT_GRANTED] !== 0) {
    w[kt + KT_WAIT_GRANTED] = 0;
    const objects = waitObjects(k, t);
    const all = w[kt + KT_WAIT_ALL] === 1;
    for (let i = 0; i < objects.length; i++) {
      const a = objects[i]!;
      const satisfied = all ? status === STATUS_SUCCESS : status === STATUS_WAIT_0 + i;
      if (satisfied && dstate(k).objects.get(a) === MutantObject && w[a + MUTANT_OWNER_THREAD] === kt) accountMutex(k, a, t);
    }
  }
  return status;
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
 * block, marks it waiting and returns WAIT_BLOCKED — the caller must then
 * `yield m.at(OP_WAIT, addr)` in the same step and read the status with waitResult.
 * `reason`/`owner` describe the wait for hang reports (defaults: the objects, a mutex's owner).
 */
export function beginWait(
  k: Kernel, ctx: ExecContext, objects: readonly number[], waitAll: boolean, timeout: PTIMEOUT,
  reason?: string, owner?: Thread | null,
): number {
  const types = objects.map((a) => objectAt(k, a, 'KeWaitFor*'));
  k.m.lockDispatcher();
  try {
    return beginWaitLocked(k, ctx, objects, types, waitAll, timeout, reason, owner);
  } finally {
    k.m.unlockDispatcher();
  }
}

function beginWaitLocked(
  k: Kernel, ctx: ExecContext, objects: readonly number[], types: number[], waitAll: boolean, timeout: PTIMEOUT,
  reason: string | undefined, owner: Thread | null | undefined,
): number {
  const m = k.m;
  const st = dstate(k);
  const t = ctx.thread;
  const n = objects.length;
  if (n > 0) {
    if (waitAll) {
      if (types.every((ty, i) => signaledFor(k, objects[i]!, ty, t))) {
        for (let i = 0; i < n; i++) satisfy(k, objects[i]!, types[i]!, t);
        if (types.every((ty) => ty === EventNotificationObject)) m.yielded = true;
        return STATUS_SUCCESS;
      }
    } else {
      for (let i = 0; i < n; i++) {
        if (signaledFor(k, objects[i]!, types[i]!, t)) {
          satisfy(k, objects[i]!, types[i]!, t);
          // Satisfied at once and nothing consumed: a poll, a yield for fair scheduling.
          if (types[i] === EventNotificationObject) m.yielded = true;
          return STATUS_WAIT_0 + i;
        }
      }
    }
  }
  if (timeout === 0) {
    m.yielded = true;
    return STATUS_TIMEOUT;
  }
  const what = (): string => objects.map((a, i) => describe(k, a, types[i]!)).join(waitAll ? ' and ' : ' or ');
  if (t === null || ctx.kind !== 'thread') {
    const w = reason ?? objects.map((a, i) => describe(k, a, types[i]!)).join(', ');
    throw new BugCheck(0xb8, t?.kthread ?? 0, 0, 0, 0, `${ctx.kind} '${ctx.name}' would block waiting for ${w || 'a timer'}: a DPC runs at DISPATCH_LEVEL and cannot wait`);
  }
  const w = m.words;
  const kt = t.kthread;
  const list = n <= INLINE_WAIT_OBJECTS ? kt + KT_WAIT_INLINE : m.memory.alloc(n, 'KWAIT_BLOCK');
  for (let i = 0; i < n; i++) w[list + i] = objects[i]!;
  const shared = k.sharedWords();
  const sequence = ++shared[KS_WAIT_SEQUENCE]!;
  shared[KS_ACTIVE_WAITS]!++;
  w[kt + KT_WAIT_SEQUENCE] = sequence;
  w[kt + KT_WAIT_ALL] = waitAll ? 1 : 0;
  w[kt + KT_WAIT_COUNT] = n;
  w[kt + KT_WAIT_OBJECTS] = list;
  w[kt + KT_WAIT_GRANTED] = 0;
  w[kt + KT_WAIT_ACTIVE] = 1;
  if (timeout !== null) {
    let timer = st.timers.get(t);
    if (!timer) {
      timer = new WaitTimer(k, t);
      st.timers.set(t, timer);
      m.events.push(timer);
    }
    timer.sequence = sequence;
    timer.armed = true;
  }
  t.state = 'waiting';
  t.waitReason = reason ?? (n === 0 ? 'its KeDelayExecutionThread interval to expire' : what());
  if (owner !== undefined) t.waitOwner = owner;
  else if (n === 1 && types[0] === MutantObject) t.waitOwner = mutexOwner(k, objects[0]!);
  return WAIT_BLOCKED;
}

/** KeSetEvent without the scheduling point: signals, wakes waiters, returns the previous state. */
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

/** KeReleaseSemaphore without the scheduling point; raises STATUS_SEMAPHORE_LIMIT_EXCEEDED past the limit. */
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
