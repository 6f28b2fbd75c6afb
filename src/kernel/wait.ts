/**
 * The wait engine (nt-semantics section 4): how a thread waits on dispatcher
 * objects and how a signal wakes it — KeWaitFor*'s dispatcher-lock part
 * (beginWait), KiWaitTest (waitTest), KiUnwaitThread (unwait) and
 * KiSatisfyObjectWait (satisfy).
 *
 * A waiting thread's wait block is in its KTHREAD (machine memory), so that a
 * processor that signals an object can find and wake a waiter another
 * processor runs. There is no per-object list: an object's waiters are the
 * threads whose active wait names it, in the order their waits began (a
 * sequence every processor shares) — the FIFO order of NT's wait list.
 *
 * Every decision is made under the dispatcher lock, within one step: a waiter
 * tests the object and, if it is not signalled, links its wait block and
 * blocks (OP_WAIT) without a gap in which a KeSetEvent could be lost.
 *
 * Timeouts: a zero timeout is a poll; NULL (null) waits forever; any other
 * value is a finite timeout whose expiry is an asynchronous event (the
 * controlled engine's strategy decides it, so STATUS_TIMEOUT replays; free-run
 * fires it when the waiter's CPU has idled a little). The value itself (100 ns
 * units in NT) is not used.
 */
import { BugCheck, verifierViolation } from '../machine/bugcheck.ts';
import type { ExecContext, Thread } from '../machine/cpu.ts';
import { DISPATCH_LEVEL, irqlName } from '../machine/irql.ts';
import {
  DH_SIGNAL_STATE, DH_TYPE, describeObject, dstate, EventNotificationObject, EventSynchronizationObject, MutantObject, MUTANT_APC_DISABLE,
  MUTANT_OWNER_THREAD, mutexOwner, objectAt, SemaphoreObject, TimerSynchronizationObject, type WaitTimerEvent,
} from './dispatcher-object.ts';
import type { Kernel } from './kernel.ts';
import { STATUS_SUCCESS, STATUS_TIMEOUT, STATUS_WAIT_0 } from './status.ts';

/** A relative timeout: null = wait forever, 0 = poll, anything else = finite (expiry chosen by the strategy). */
export type PTIMEOUT = number | null;

/** beginWait's answer when the caller must block: yield OP_WAIT, then read the status with waitResult. */
export const WAIT_BLOCKED = -1;

/** The wait block in a KTHREAD (words). */
/** 1 while the wait is linked (a waker clears it when it satisfies or times out the wait). */
export const KT_WAIT_ACTIVE = 0;
/** Order in which waits began (from a counter every processor shares). */
export const KT_WAIT_SEQUENCE = 1;
export const KT_WAIT_ALL = 2;
export const KT_WAIT_COUNT = 3;
/** Address of the array of objects waited on (KT_WAIT_INLINE, or a pool block for longer waits). */
export const KT_WAIT_OBJECTS = 4;
/** 1 when a processor that does not run the thread gave it a mutex: the thread accounts for it itself on resumption. */
export const KT_WAIT_GRANTED = 5;
/** Objects of a wait of up to INLINE_WAIT_OBJECTS objects, in the KTHREAD itself. */
export const KT_WAIT_INLINE = 8;
const KTHREAD_WORDS = 16;
const INLINE_WAIT_OBJECTS = KTHREAD_WORDS - KT_WAIT_INLINE;

/** A thread's wait timer: an event that may fire while the thread is in a timed wait. */
class WaitTimer implements WaitTimerEvent {
  armed = false;
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

  /** The timeout expires: the wait ends with STATUS_TIMEOUT unless a signal ended it first. */
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

/** The objects `t` waits on (its wait block's array). */
function waitObjects(k: Kernel, t: Thread): Int32Array<ArrayBufferLike> {
  const w = k.m.words;
  const base = w[t.kthread + KT_WAIT_OBJECTS]!;
  return w.subarray(base, base + w[t.kthread + KT_WAIT_COUNT]!);
}

const NO_WAITERS: Thread[] = [];

/** The wait list of `addr`: threads whose active wait names it, in the order their waits began. Dispatcher lock held. */
export function waitersOf(k: Kernel, addr: number): Thread[] {
  // Most signals find nobody waiting at all: no scan, no allocation.
  if (k.m.kernelShared.words[k.shared.activeWaits] === 0) return NO_WAITERS;
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

/** Whether the object would satisfy a wait of `t` now (a mutex is, for its owner). Dispatcher lock held. */
function signaledFor(k: Kernel, addr: number, type: number, t: Thread | null): boolean {
  const s = k.m.read(addr + DH_SIGNAL_STATE);
  return s > 0 || (type === MutantObject && mutexOwner(k, addr) === t);
}

/** The owner's side of acquiring a mutex: normal kernel APCs off, and it counts as a held lock. */
function accountMutex(k: Kernel, mutex: number, t: Thread): void {
  t.kernelApcDisable -= k.m.read(mutex + MUTANT_APC_DISABLE);
  t.ctx.heldLocks.push(mutex);
}

/**
 * KiSatisfyObjectWait: the side effect of a satisfied wait — a synchronization event or timer resets, a
 * semaphore counts down, a mutex gets an owner. Dispatcher lock held.
 */
function satisfy(k: Kernel, addr: number, type: number, t: Thread | null): void {
  const m = k.m;
  const a = addr + DH_SIGNAL_STATE;
  switch (type) {
    case EventSynchronizationObject:
    case TimerSynchronizationObject:
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
        // A thread's own fields belong to the processor that runs it: that one accounts when it resumes.
        if (m.runsThread(t)) accountMutex(k, addr, t);
        else m.words[t.kthread + KT_WAIT_GRANTED] = 1;
      }
      break;
    }
    default:
      break;
  }
}

/** KiUnwaitThread: unlinks `t`'s wait and readies it with `status`. Dispatcher lock held. */
function unwait(k: Kernel, t: Thread, status: number): void {
  const w = k.m.words;
  w[t.kthread + KT_WAIT_ACTIVE] = 0;
  k.m.kernelShared.use()[k.shared.activeWaits]!--;
  const timer = dstate(k).timers.get(t);
  if (timer && timer.sequence === w[t.kthread + KT_WAIT_SEQUENCE]) timer.armed = false;
  k.m.readyThread(t, status);
}

/**
 * KiWaitTest: after `addr` became signalled, satisfies its waiters in FIFO order while it stays
 * signalled (a WaitAll waiter only when all its objects are). Dispatcher lock held.
 */
export function waitTest(k: Kernel, addr: number, type: number): void {
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
 * The status a thread's wait ended with, read when it runs again (its own processor). If a
 * processor that does not run it gave it mutexes, the thread accounts for them here (a waker on
 * the same processor did that already).
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

/**
 * IRQL and context rules of a wait, before the objects are looked at. Checked build: waiting from
 * a DPC is ATTEMPTED_SWITCH_FROM_DPC (0xB8); from a thread at DISPATCH_LEVEL with no timeout
 * 0xC4/0x121, with a non-zero one 0xC4/0x122; above DISPATCH_LEVEL 0xC4/0x120 (a poll too).
 * Free build: nothing here (a DPC that would block still hits 0xB8 in beginWait).
 */
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
 * A DPC (or anything but a thread) that would block: ATTEMPTED_SWITCH_FROM_DPC (0xB8).
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

/** beginWait with the dispatcher lock held. */
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
  const what = (): string => objects.map((a, i) => describeObject(k, a, types[i]!)).join(waitAll ? ' and ' : ' or ');
  if (t === null || ctx.kind !== 'thread') {
    const w = reason ?? objects.map((a, i) => describeObject(k, a, types[i]!)).join(', ');
    throw new BugCheck(0xb8, t?.kthread ?? 0, 0, 0, 0, `${ctx.kind} '${ctx.name}' would block waiting for ${w || 'a timer'}: a DPC runs at DISPATCH_LEVEL and cannot wait`);
  }
  const w = m.words;
  const kt = t.kthread;
  const list = n <= INLINE_WAIT_OBJECTS ? kt + KT_WAIT_INLINE : m.memory.alloc(n, 'KWAIT_BLOCK');
  for (let i = 0; i < n; i++) w[list + i] = objects[i]!;
  const shared = m.kernelShared.use();
  const sequence = ++shared[k.shared.waitSequence]!;
  shared[k.shared.activeWaits]!++;
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
