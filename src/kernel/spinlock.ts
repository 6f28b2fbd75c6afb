/**
 * Executive spin locks (KSPIN_LOCK) (nt-semantics sections 2 and 1.3). Interrupt objects and
 * their spin locks are in interrupt.ts; it shares the acquire loop and the checks below.
 *
 * MP HAL: the lock word is taken with an interlocked operation; waiters spin
 * with PAUSE, re-reading the word until it looks free (test, then
 * test-and-set). A checked build stores `KTHREAD | 1` in the word and checks
 * ownership; a free build stores 1. UP HAL: only the IRQL is raised — the word
 * is never written, which is exactly why recursion is silent there.
 */
import { BugCheck, verifierViolation } from '../machine/bugcheck.ts';
import type { ExecContext } from '../machine/cpu.ts';
import { DISPATCH_LEVEL, type KIRQL } from '../machine/irql.ts';
import { OP_IRQL, OP_READ, OP_RMW, OP_SPIN, OP_WRITE, type Routine } from '../machine/ops.ts';
import { lowerViolation } from './irql.ts';
import type { Kernel } from './kernel.ts';

export type PKSPIN_LOCK = number;
/** The value a checked build leaves in an owned lock word (a free build leaves 1). */
export function ownerTag(k: Kernel, ctx: ExecContext): number {
  return k.m.checked ? ((ctx.thread?.kthread ?? 0) * 4) | 1 : 1;
}

/*
 * The checked-build checks and the rare paths below are functions of their own, out of the
 * routines' bodies: free-run inlines a routine into the scenario code that calls it only while
 * the routine is small, and a call that is not inlined costs as much as the check it makes.
 */

/** KeAcquireSpinLock on a checked build: IRQL at most DISPATCH_LEVEL, then recursion and lock order. */
function checkAcquireRaising(k: Kernel, lock: number, ctx: ExecContext, old: KIRQL): void {
  if (old > DISPATCH_LEVEL) throw verifierViolation(0x42, lock * 4, old);
  checkAcquire(k, lock, ctx);
}

/** KeReleaseSpinLock on a checked build, before the release: at DISPATCH_LEVEL, and the owner. */
function checkReleaseLowering(k: Kernel, lock: number, ctx: ExecContext, oldIrql: KIRQL): void {
  if (ctx.cpu.irql !== DISPATCH_LEVEL) throw verifierViolation(0x32, lock * 4, ctx.cpu.irql, oldIrql);
  checkRelease(k, lock, ctx);
}

/** Verifier checks made when any spin lock is requested: recursion, then lock order. */
export function checkAcquire(k: Kernel, lock: number, ctx: ExecContext): void {
  const m = k.m;
  const owner = m.lockOwners.get(lock);
  if (owner !== undefined && owner.cpu === ctx.cpu) {
    throw new BugCheck(0x0f, lock * 4, 0, 0, 0, `${m.nameOf(lock)} is already held on CPU ${ctx.cpu.index} by ${owner.kind} '${owner.name}'`);
  }
  // Lock order is only at stake while something else is held (and the closure below is not made per acquire).
  if (ctx.heldLocks.length === 0) return;
  const v = k.verifier.onAcquire(ctx.heldLocks, lock, ctx.thread?.kthread ?? 0, (a) => m.nameOf(a));
  if (v) throw v;
}

/** Shadow bookkeeping of a lock now held by ctx (both builds: it feeds hang analysis). */
export function noteAcquired(k: Kernel, lock: number, ctx: ExecContext): void {
  k.m.lockOwners.set(lock, ctx);
  ctx.heldLocks.push(lock);
}

export function noteReleased(k: Kernel, lock: number, ctx: ExecContext): void {
  k.m.lockOwners.delete(lock);
  const held = ctx.heldLocks;
  // Locks are mostly released in the reverse order of their acquisition.
  if (held.length !== 0 && held[held.length - 1] === lock) held.pop();
  else if (!removeHeld(held, lock)) releasedByAnother(k, lock);
}

/** Released by a context other than the acquirer (legal for spin locks on the same CPU path). */
function releasedByAnother(k: Kernel, lock: number): void {
  for (const c of k.m.cur.cpu.stack) if (removeHeld(c.heldLocks, lock)) return;
}

/**
 * Removes the last occurrence of lock without allocating (splice returns an
 * array). pop(), not `length--`: V8 inlines pop, while storing to length
 * calls into the runtime — it was a tenth of a free-run critical section.
 */
function removeHeld(held: number[], lock: number): boolean {
  for (let i = held.length - 1; i >= 0; i--) {
    if (held[i] === lock) {
      for (let j = i + 1; j < held.length; j++) held[j - 1] = held[j]!;
      held.pop();
      return true;
    }
  }
  return false;
}

/** Checked-build ownership test at release: the lock must be held, and by this CPU. */
export function checkRelease(k: Kernel, lock: number, ctx: ExecContext): void {
  const owner = k.m.lockOwners.get(lock);
  if (owner === undefined || owner.cpu !== ctx.cpu) {
    throw new BugCheck(
      0x10, lock * 4, 0, 0, 0,
      owner ? `${k.m.nameOf(lock)} is held by CPU ${owner.cpu.index}, not CPU ${ctx.cpu.index}` : `${k.m.nameOf(lock)} is not held`,
    );
  }
}

/** The MP acquire loop: test-and-set, and on failure spin reading until the word is 0. */
export function* acquireWord(k: Kernel, lock: number, tag: number): Routine<void> {
  const m = k.m;
  for (;;) {
    yield m.at(OP_RMW, lock);
    if (m.cmpxchg(lock, tag, 0) === 0) return;
    do yield m.at(OP_SPIN, lock);
    while (m.read(lock) !== 0);
  }
}

export const spinLockApi = {
  /** Any IRQL. Returns the lock's address (storage is allocated when none is given). */
  KeInitializeSpinLock(this: Kernel, lock?: PKSPIN_LOCK): PKSPIN_LOCK {
    const a = lock ?? this.m.memory.alloc(1, 'KSPIN_LOCK');
    this.m.words[a] = 0;
    return a;
  },

  /** IRQL ≤ DISPATCH_LEVEL. Raises to DISPATCH_LEVEL, acquires, returns the previous IRQL. */
  *KeAcquireSpinLock(this: Kernel, lock: PKSPIN_LOCK): Routine<KIRQL> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeAcquireSpinLock');
    yield m.at(OP_IRQL, lock);
    const cpu = ctx.cpu;
    const old = cpu.irql;
    if (m.checked) checkAcquireRaising(this, lock, ctx, old);
    m.setIrql(cpu, DISPATCH_LEVEL);
    if (m.mpHal) {
      const tag = ownerTag(this, ctx);
      for (;;) {
        yield m.at(OP_RMW, lock);
        if (m.cmpxchg(lock, tag, 0) === 0) break;
        do yield m.at(OP_SPIN, lock);
        while (m.read(lock) !== 0);
      }
    }
    noteAcquired(this, lock, ctx);
    ctx.apiStack.pop();
    return old;
  },

  *KeAcquireSpinLockRaiseToDpc(this: Kernel, lock: PKSPIN_LOCK): Routine<KIRQL> {
    return yield* this.KeAcquireSpinLock(lock);
  },

  /** Exactly DISPATCH_LEVEL. Releases, then lowers IRQL to the value KeAcquireSpinLock returned. */
  *KeReleaseSpinLock(this: Kernel, lock: PKSPIN_LOCK, oldIrql: KIRQL): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    const cpu = ctx.cpu;
    ctx.apiStack.push('KeReleaseSpinLock');
    if (m.checked) checkReleaseLowering(this, lock, ctx, oldIrql);
    if (m.mpHal) {
      yield m.at(OP_WRITE, lock);
      m.write(lock, 0);
    }
    noteReleased(this, lock, ctx);
    yield m.at(OP_IRQL, lock);
    if (oldIrql > cpu.irql && m.checked) throw lowerViolation(cpu.irql, oldIrql, ctx.kind);
    m.setIrql(cpu, oldIrql);
    ctx.apiStack.pop();
  },

  /** Exactly DISPATCH_LEVEL (a DPC, or code that already raised). IRQL is unchanged. */
  *KeAcquireSpinLockAtDpcLevel(this: Kernel, lock: PKSPIN_LOCK): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeAcquireSpinLockAtDpcLevel');
    if (m.checked) {
      if (ctx.cpu.irql < DISPATCH_LEVEL) throw verifierViolation(0x40, lock * 4, ctx.cpu.irql);
      checkAcquire(this, lock, ctx);
    }
    if (m.mpHal) yield* acquireWord(this, lock, ownerTag(this, ctx));
    noteAcquired(this, lock, ctx);
    ctx.apiStack.pop();
  },

  *KeReleaseSpinLockFromDpcLevel(this: Kernel, lock: PKSPIN_LOCK): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeReleaseSpinLockFromDpcLevel');
    if (m.checked) {
      if (ctx.cpu.irql < DISPATCH_LEVEL) throw verifierViolation(0x41, lock * 4, ctx.cpu.irql);
      checkRelease(this, lock, ctx);
    }
    if (m.mpHal) {
      yield m.at(OP_WRITE, lock);
      m.write(lock, 0);
    }
    noteReleased(this, lock, ctx);
    ctx.apiStack.pop();
  },

  /**
   * DISPATCH_LEVEL. Returns FALSE at once if the word is non-zero; otherwise
   * test-and-set, FALSE if another CPU won the race. Always TRUE on a UP HAL.
   */
  *KeTryToAcquireSpinLockAtDpcLevel(this: Kernel, lock: PKSPIN_LOCK): Routine<boolean> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeTryToAcquireSpinLockAtDpcLevel');
    if (m.checked && ctx.cpu.irql < DISPATCH_LEVEL) throw verifierViolation(0x40, lock * 4, ctx.cpu.irql);
    if (m.mpHal) {
      yield m.at(OP_READ, lock);
      if (m.read(lock) !== 0) {
        ctx.apiStack.pop();
        return false;
      }
      if (m.checked) checkAcquire(this, lock, ctx);
      yield m.at(OP_RMW, lock);
      if (m.cmpxchg(lock, ownerTag(this, ctx), 0) !== 0) {
        ctx.apiStack.pop();
        return false;
      }
    } else if (m.checked) checkAcquire(this, lock, ctx);
    noteAcquired(this, lock, ctx);
    ctx.apiStack.pop();
    return true;
  },

  /** Reads the lock word without acquiring it (KeTestSpinLock): TRUE when it looks free. */
  *KeTestSpinLock(this: Kernel, lock: PKSPIN_LOCK): Routine<boolean> {
    const m = this.m;
    yield m.at(OP_READ, lock);
    return m.read(lock) === 0;
  },
};

export type SpinLockApi = typeof spinLockApi;
