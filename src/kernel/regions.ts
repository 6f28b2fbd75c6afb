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
 */
import { ScenarioError, verifierViolation } from '../machine/bugcheck.ts';
import type { Thread } from '../machine/cpu.ts';
import { APC_LEVEL, PASSIVE_LEVEL } from '../machine/irql.ts';
import { OP_KERNEL, OP_WAIT, type Routine } from '../machine/ops.ts';
import { STATUS_SUCCESS } from './status.ts';
import type { Kernel } from './kernel.ts';

/** Per-run APC state: suspend counts and suspend APCs queued but not yet delivered. */
export class ApcState {
  readonly suspendCount = new Map<Thread, number>();
  /** Threads with a suspend APC queued and not yet delivered. */
  readonly pending = new Set<Thread>();
  /** Threads stopped by a delivered suspend APC. */
  readonly suspended = new Set<Thread>();
}

export function apcState(k: Kernel): ApcState {
  return k.perRun('apc', () => new ApcState());
}

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

/** True when a normal kernel APC could be delivered to `t` right now (PASSIVE_LEVEL, no region). */
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
  const st = k.ext.get('apc') as ApcState | undefined;
  if (st === undefined || t === null || ctx.kind !== 'thread' || !st.pending.has(t)) return;
  if (ctx.cpu.irql !== PASSIVE_LEVEL || regionDisabled(t)) return;
  st.pending.delete(t);
  st.suspended.add(t);
  t.state = 'waiting';
  t.waitReason = suspendReason(t);
  yield m.at(OP_WAIT, t.kthread);
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
    const st = apcState(this);
    const prev = st.suspendCount.get(t) ?? 0;
    m.cur.apiStack.pop();
    if (t.state === 'terminated') return 0;
    st.suspendCount.set(t, prev + 1);
    if (prev === 0 && !st.suspended.has(t)) {
      if (deliverableNow(this, t) && m.blockThread(t, suspendReason(t))) st.suspended.add(t);
      else {
        st.pending.add(t);
        if (m.cur === t.ctx) yield* deliverApcs(this);
      }
    }
    return prev;
  },

  /** Resumes a thread NtSuspendThread stopped (when its suspend count returns to 0). Returns the previous count. */
  *NtResumeThread(this: Kernel, threadName: string): Routine<number> {
    const m = this.m;
    yield m.at(OP_KERNEL, 0);
    const t = threadByName(this, threadName, 'NtResumeThread');
    const st = apcState(this);
    const prev = st.suspendCount.get(t) ?? 0;
    if (prev === 0) return 0;
    st.suspendCount.set(t, prev - 1);
    if (prev === 1) {
      st.pending.delete(t);
      if (st.suspended.delete(t)) m.readyThread(t, STATUS_SUCCESS);
    }
    return prev;
  },
};

export type RegionsApi = typeof regionsApi;
