/**
 * Critical and guarded regions, APC disable counts, and just enough APC
 * modelling for the rules that depend on them (nt-semantics section 9).
 *
 * KTHREAD.KernelApcDisable / SpecialApcDisable are Thread.kernelApcDisable /
 * specialApcDisable: 0 when enabled, more negative with each nesting level.
 * A critical region holds back normal kernel APCs (and so thread suspension,
 * which is a normal kernel APC); a guarded region holds back all APCs, as does
 * running at APC_LEVEL or above. Leaving without entering: checked build
 * 0xC4/0x3E at once; both builds APC_INDEX_MISMATCH (0x01) when the thread
 * returns with the counts unbalanced (checked by the machine at thread exit).
 *
 * APCs: NtSuspendThread queues the suspend APC to a thread; it is delivered
 * (the thread stops and waits until NtResumeThread) as soon as the thread is
 * at PASSIVE_LEVEL outside any region — at once when it is running or ready,
 * otherwise when it leaves its region, releases a fast mutex or KMUTEX, or
 * returns from a dispatcher wait. Windows would also deliver it during a
 * wait and re-enter the wait afterwards; here it waits for the wait to end.
 * Free-run: for a thread another CPU worker runs, "at once" is when that
 * worker next takes its mail (between two steps); a thread running as a
 * plain-function twin takes it at its next delivery point.
 */
import { ScenarioError, verifierViolation } from '../machine/bugcheck.ts';
import type { Thread } from '../machine/cpu.ts';
import { APC_LEVEL, PASSIVE_LEVEL } from '../machine/irql.ts';
import { OP_KERNEL, OP_WAIT, type Routine } from '../machine/ops.ts';
import { STATUS_SUCCESS } from './status.ts';
import type { Kernel } from './kernel.ts';

/**
 * APC state in the thread's KTHREAD (machine memory: a thread on another free-run CPU worker may
 * be suspended or resumed from here), changed under the dispatcher lock. Words 0–5 and 8–15 are
 * the dispatcher's wait block.
 */
export const KT_SUSPEND_COUNT = 6;
export const KT_APC_FLAGS = 7;
/** A suspend APC is queued and not yet delivered. */
const APC_PENDING = 1;
/** Stopped by a delivered suspend APC. */
const APC_SUSPENDED = 2;

/** KeAreApcsDisabled: inside a critical or guarded region. */
function regionDisabled(t: Thread): boolean {
  return t.kernelApcDisable !== 0 || t.specialApcDisable !== 0;
}

/** CombinedApcDisable as KTHREAD packs it. */
export function combinedApcDisable(t: Thread): number {
  return ((t.specialApcDisable & 0xffff) << 16) | (t.kernelApcDisable & 0xffff);
}

function suspendReason(t: Thread): string {
  return `NtResumeThread (thread '${t.name}' is suspended: a suspend APC was delivered to it)`;
}

/** True when a normal kernel APC could be delivered to `t` right now (PASSIVE_LEVEL, no region). Only on the processor that runs `t`. */
function deliverableNow(k: Kernel, t: Thread): boolean {
  if (regionDisabled(t)) return false;
  if (t.state === 'ready') return t.irql === PASSIVE_LEVEL;
  if (t.state === 'running') return t.cpu.thread === t && t.cpu.stack.length === 1 && t.cpu.irql === PASSIVE_LEVEL && k.m.cur !== t.ctx;
  return false;
}

/**
 * Delivery point for the calling thread: if a suspend APC is pending and the
 * thread is at PASSIVE_LEVEL outside any region, it is suspended here.
 */
export function* deliverApcs(k: Kernel): Routine<void> {
  const m = k.m;
  const ctx = m.cur;
  const t = ctx.thread;
  if (t === null || ctx.kind !== 'thread' || (m.words[t.kthread + KT_APC_FLAGS]! & APC_PENDING) === 0) return;
  if (ctx.cpu.irql !== PASSIVE_LEVEL || regionDisabled(t)) return;
  m.lockDispatcher();
  try {
    // Another processor may have resumed it since the test above.
    const w = m.words;
    if ((w[t.kthread + KT_APC_FLAGS]! & APC_PENDING) === 0) return;
    w[t.kthread + KT_APC_FLAGS] = APC_SUSPENDED;
    t.state = 'waiting';
    t.waitReason = suspendReason(t);
  } finally {
    m.unlockDispatcher();
  }
  yield m.at(OP_WAIT, t.kthread);
}

/**
 * Machine.onThreadKick: a suspend APC was queued to `t` from another processor; on the processor
 * that runs `t`, between two steps, it is delivered at once if it can be.
 */
export function apcKick(k: Kernel, t: Thread): void {
  const m = k.m;
  m.lockDispatcher();
  try {
    const w = m.words;
    if (w[t.kthread + KT_APC_FLAGS] === APC_PENDING && deliverableNow(k, t) && m.blockThread(t, suspendReason(t))) {
      w[t.kthread + KT_APC_FLAGS] = APC_SUSPENDED;
    }
  } finally {
    m.unlockDispatcher();
  }
}

function threadByName(k: Kernel, name: string, api: string): Thread {
  const t = k.m.threads.find((x) => x.name === name);
  if (!t) throw new ScenarioError(`${api}: no thread actor named '${name}'`);
  return t;
}

export const regionsApi = {
  /** IRQL ≤ APC_LEVEL. Disables normal kernel APCs (and suspension) for the current thread; nests. */
  *KeEnterCriticalRegion(this: Kernel): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    if (m.checked && ctx.cpu.irql > APC_LEVEL) throw verifierViolation(0x11a, ctx.cpu.irql, 0, 0, `KeEnterCriticalRegion at IRQL ${ctx.cpu.irql}`);
    const t = ctx.thread;
    if (t) t.kernelApcDisable--;
  },

  /** IRQL ≤ APC_LEVEL. Re-enables normal kernel APCs when the count returns to 0, delivering any pending one. */
  *KeLeaveCriticalRegion(this: Kernel): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    const t = ctx.thread;
    if (m.checked && ctx.cpu.irql > APC_LEVEL) throw verifierViolation(0x11b, ctx.cpu.irql, 0, 0, `KeLeaveCriticalRegion at IRQL ${ctx.cpu.irql}`);
    if (!t) return;
    if (t.kernelApcDisable >= 0 && m.checked) {
      throw verifierViolation(0x3e, t.kthread * 4, combinedApcDisable(t), 0, `thread '${t.name}' called KeLeaveCriticalRegion without a matching KeEnterCriticalRegion`);
    }
    t.kernelApcDisable++;
    if (t.kernelApcDisable === 0) yield* deliverApcs(this);
  },

  /** IRQL ≤ APC_LEVEL. Disables all APCs for the current thread; nests. */
  *KeEnterGuardedRegion(this: Kernel): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    if (m.checked && ctx.cpu.irql > APC_LEVEL) throw verifierViolation(0x11a, ctx.cpu.irql, 1, 0, `KeEnterGuardedRegion at IRQL ${ctx.cpu.irql}`);
    const t = ctx.thread;
    if (t) t.specialApcDisable--;
  },

  /** IRQL ≤ APC_LEVEL. Leaving without entering plays out as APC_INDEX_MISMATCH when the thread returns. */
  *KeLeaveGuardedRegion(this: Kernel): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    if (m.checked && ctx.cpu.irql > APC_LEVEL) throw verifierViolation(0x11b, ctx.cpu.irql, 1, 0, `KeLeaveGuardedRegion at IRQL ${ctx.cpu.irql}`);
    const t = ctx.thread;
    if (!t) return;
    t.specialApcDisable++;
    if (t.specialApcDisable === 0) yield* deliverApcs(this);
  },

  /** TRUE inside a critical or guarded region. */
  KeAreApcsDisabled(this: Kernel): boolean {
    const t = this.m.cur.thread;
    return t !== null && regionDisabled(t);
  },

  /** TRUE inside a guarded region or at IRQL ≥ APC_LEVEL. */
  KeAreAllApcsDisabled(this: Kernel): boolean {
    const ctx = this.m.cur;
    return ctx.cpu.irql >= APC_LEVEL || (ctx.thread !== null && ctx.thread.specialApcDisable !== 0);
  },

  /**
   * Suspends the thread actor `threadName` (what NtSuspendThread, a debugger or
   * the process's own code does): queues the suspend APC, which stops the
   * thread wherever it is as soon as it is at PASSIVE_LEVEL outside any
   * critical or guarded region. Returns the previous suspend count.
   */
  *NtSuspendThread(this: Kernel, threadName: string): Routine<number> {
    const m = this.m;
    m.cur.apiStack.push('NtSuspendThread');
    yield m.at(OP_KERNEL, 0);
    const t = threadByName(this, threadName, 'NtSuspendThread');
    m.cur.apiStack.pop();
    // (Free-run: a thread of another CPU worker is not known to have ended here; its APC just stays queued.)
    if (t.state === 'terminated') return 0;
    const w = m.words;
    const kt = t.kthread;
    let prev: number;
    let self = false;
    m.lockDispatcher();
    try {
      prev = w[kt + KT_SUSPEND_COUNT]!;
      w[kt + KT_SUSPEND_COUNT] = prev + 1;
      if (prev === 0 && (w[kt + KT_APC_FLAGS]! & APC_SUSPENDED) === 0) {
        if (!m.runsThread(t)) {
          w[kt + KT_APC_FLAGS] = APC_PENDING;
          m.kickThread(t);
        } else if (deliverableNow(this, t) && m.blockThread(t, suspendReason(t))) w[kt + KT_APC_FLAGS] = APC_SUSPENDED;
        else {
          w[kt + KT_APC_FLAGS] = APC_PENDING;
          self = m.cur === t.ctx;
        }
      }
    } finally {
      m.unlockDispatcher();
    }
    if (self) yield* deliverApcs(this);
    return prev;
  },

  /** Resumes a thread NtSuspendThread stopped (when its suspend count returns to 0). Returns the previous count. */
  *NtResumeThread(this: Kernel, threadName: string): Routine<number> {
    const m = this.m;
    yield m.at(OP_KERNEL, 0);
    const t = threadByName(this, threadName, 'NtResumeThread');
    const w = m.words;
    const kt = t.kthread;
    m.lockDispatcher();
    try {
      const prev = w[kt + KT_SUSPEND_COUNT]!;
      if (prev === 0) return 0;
      w[kt + KT_SUSPEND_COUNT] = prev - 1;
      if (prev === 1) {
        const suspended = (w[kt + KT_APC_FLAGS]! & APC_SUSPENDED) !== 0;
        w[kt + KT_APC_FLAGS] = 0;
        if (suspended) m.readyThread(t, STATUS_SUCCESS);
      }
      return prev;
    } finally {
      m.unlockDispatcher();
    }
  },
};

export type RegionsApi = typeof regionsApi;
