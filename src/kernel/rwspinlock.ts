/**
 * Reader/writer spin locks (EX_SPIN_LOCK): ExAcquireSpinLockShared / Exclusive, their releases,
 * the AtDpcLevel / FromDpcLevel variants and ExTryConvertSharedSpinLockExclusive (WDK
 * "Reader/Writer Spin Locks", wdm.h).
 *
 * The lock is one 32-bit word the driver zeroes (there is no initialization routine; pool from
 * ExAllocatePool2 is zeroed): bit 31 is the writer bit (held, or claimed by a
 * writer waiting for readers to drain), the low bits count shared holders. A reader adds itself
 * with one interlocked operation while the writer bit is clear, and otherwise spins until it is; a
 * writer sets the writer bit (so new readers hold back: writers are not starved) and then spins
 * until the reader count drops to 0. A shared holder may convert to exclusive only when it is the
 * sole holder and no writer is claiming the lock.
 *
 * Shared holders can run at once on different CPUs: what they protect may be read under a shared
 * acquisition, never written (rwspinlock/writer-in-shared).
 *
 * UP HAL: as for KSPIN_LOCK, only the IRQL is raised and the word is never touched.
 * Checked build (the checks Verifier makes for KSPIN_LOCK, applied here): acquire above
 * DISPATCH_LEVEL → 0xC4/0x42; the AtDpcLevel forms below DISPATCH_LEVEL → 0xC4/0x40 and 0x41;
 * a second acquire by the CPU that holds it (shared or exclusive) → 0x0F, since it spins forever;
 * a release of a lock this CPU does not hold in that mode → 0x10; a raising release at an IRQL
 * other than DISPATCH_LEVEL → 0xC4/0x32; lock order → 0xC4/0x1001.
 */
import { BugCheck, verifierViolation } from '../machine/bugcheck.ts';
import type { ExecContext } from '../machine/cpu.ts';
import { DISPATCH_LEVEL, type KIRQL } from '../machine/irql.ts';
import { OP_IRQL, OP_READ, OP_RMW, OP_SPIN, OP_WRITE, type Routine } from '../machine/ops.ts';
import { lowerViolation } from './irql.ts';
import type { Kernel } from './kernel.ts';

export type PEX_SPIN_LOCK = number;

/** The writer bit of an EX_SPIN_LOCK. */
export const EX_SPIN_LOCK_EXCLUSIVE = 0x80000000 | 0;
const READERS = 0x7fffffff;

/** Does any context on ctx's CPU hold `lock` (as a shared holder: in heldLocks, not the owner)? */
function heldOnCpu(ctx: ExecContext, lock: number): boolean {
  for (const c of ctx.cpu.stack) if (c.heldLocks.includes(lock)) return true;
  return false;
}

function holdsExclusive(k: Kernel, lock: number, ctx: ExecContext): boolean {
  return k.m.lockOwners.get(lock)?.cpu === ctx.cpu;
}

/** Checked build, any acquire: recursion on this CPU (it would spin forever), then lock order. */
function checkAcquire(k: Kernel, lock: number, ctx: ExecContext): void {
  const m = k.m;
  if (heldOnCpu(ctx, lock)) {
    const mode = holdsExclusive(k, lock, ctx) ? 'exclusive' : 'shared';
    throw new BugCheck(0x0f, lock * 4, 0, 0, 0, `${m.nameOf(lock)} is already held (${mode}) on CPU ${ctx.cpu.index}: acquiring it again spins forever`);
  }
  if (ctx.heldLocks.length === 0) return;
  const v = k.verifier.onAcquire(ctx.heldLocks, lock, ctx.thread?.kthread ?? 0, (a) => m.nameOf(a));
  if (v) throw v;
}

/** Checked build, any release: this CPU holds the lock, in the mode being released. */
function checkRelease(k: Kernel, lock: number, ctx: ExecContext, exclusive: boolean): void {
  const m = k.m;
  const held = heldOnCpu(ctx, lock);
  const excl = holdsExclusive(k, lock, ctx);
  if (!held || excl !== exclusive) {
    const what = !held ? 'is not held on this CPU' : excl ? 'is held exclusive, not shared' : 'is held shared, not exclusive';
    throw new BugCheck(0x10, lock * 4, 0, 0, 0, `${m.nameOf(lock)} ${what} (CPU ${ctx.cpu.index})`);
  }
}

function forgetHeld(ctx: ExecContext, lock: number): void {
  for (const c of ctx.cpu.stack) {
    const held = c.heldLocks;
    const i = held.lastIndexOf(lock);
    if (i >= 0) {
      held.splice(i, 1);
      return;
    }
  }
}

/** MP: add a reader while the writer bit is clear; spin reading while it is set. */
function* acquireShared(k: Kernel, lock: number): Routine<void> {
  const m = k.m;
  for (;;) {
    yield m.at(OP_READ, lock);
    const v = m.read(lock);
    if ((v & EX_SPIN_LOCK_EXCLUSIVE) === 0) {
      yield m.at(OP_RMW, lock);
      if (m.cmpxchg(lock, v + 1, v) === v) return;
      continue;
    }
    do yield m.at(OP_SPIN, lock);
    while ((m.read(lock) & EX_SPIN_LOCK_EXCLUSIVE) !== 0);
  }
}

/**
 * The release both holds share: a reader takes itself off the count (one RMW), the writer clears the
 * word (one write); on a UP HAL there is no word to touch.
 */
function* releaseWord(k: Kernel, lock: number, ctx: ExecContext, exclusive: boolean): Routine<void> {
  const m = k.m;
  if (m.mpHal) {
    if (exclusive) {
      yield m.at(OP_WRITE, lock);
      m.write(lock, 0);
    } else {
      yield m.at(OP_RMW, lock);
      m.xadd(lock, -1);
    }
  }
  if (exclusive) m.lockOwners.delete(lock);
  forgetHeld(ctx, lock);
}

/** ExRelease…SpinLock{Shared,Exclusive}: at DISPATCH_LEVEL exactly (0xC4/0x32), then IRQL back to `oldIrql`. */
function* releaseAndLower(k: Kernel, name: string, lock: number, exclusive: boolean, oldIrql: KIRQL): Routine<void> {
  const m = k.m;
  const ctx = m.cur;
  const cpu = ctx.cpu;
  ctx.apiStack.push(name);
  if (m.checked) {
    if (cpu.irql !== DISPATCH_LEVEL) throw verifierViolation(0x32, lock * 4, cpu.irql, oldIrql);
    checkRelease(k, lock, ctx, exclusive);
  }
  yield* releaseWord(k, lock, ctx, exclusive);
  yield m.at(OP_IRQL, lock);
  if (oldIrql > cpu.irql && m.checked) throw lowerViolation(cpu.irql, oldIrql, ctx.kind);
  m.setIrql(cpu, oldIrql);
  ctx.apiStack.pop();
}

/** ExRelease…SpinLock{Shared,Exclusive}FromDpcLevel: at DISPATCH_LEVEL or above (0xC4/0x41); IRQL unchanged. */
function* releaseFromDpcLevel(k: Kernel, name: string, lock: number, exclusive: boolean): Routine<void> {
  const m = k.m;
  const ctx = m.cur;
  ctx.apiStack.push(name);
  if (m.checked) {
    if (ctx.cpu.irql < DISPATCH_LEVEL) throw verifierViolation(0x41, lock * 4, ctx.cpu.irql);
    checkRelease(k, lock, ctx, exclusive);
  }
  yield* releaseWord(k, lock, ctx, exclusive);
  ctx.apiStack.pop();
}

/** MP: claim the writer bit (spinning while another writer has it), then wait for the readers to leave. */
function* acquireExclusive(k: Kernel, lock: number): Routine<void> {
  const m = k.m;
  for (;;) {
    yield m.at(OP_RMW, lock);
    const old = m.or(lock, EX_SPIN_LOCK_EXCLUSIVE);
    if ((old & EX_SPIN_LOCK_EXCLUSIVE) === 0) break;
    do yield m.at(OP_SPIN, lock);
    while ((m.read(lock) & EX_SPIN_LOCK_EXCLUSIVE) !== 0);
  }
  yield m.at(OP_READ, lock);
  while ((m.read(lock) & READERS) !== 0) yield m.at(OP_SPIN, lock);
}

function noteShared(lock: number, ctx: ExecContext): void {
  ctx.heldLocks.push(lock);
}

function noteExclusive(k: Kernel, lock: number, ctx: ExecContext): void {
  k.m.lockOwners.set(lock, ctx);
  ctx.heldLocks.push(lock);
}

export const rwSpinLockApi = {
  /**
   * IRQL ≤ DISPATCH_LEVEL. Raises to DISPATCH_LEVEL and acquires the lock shared: other readers may
   * hold it at the same time, no writer does. Returns the previous IRQL.
   */
  *ExAcquireSpinLockShared(this: Kernel, lock: PEX_SPIN_LOCK): Routine<KIRQL> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExAcquireSpinLockShared');
    yield m.at(OP_IRQL, lock);
    const old = ctx.cpu.irql;
    if (m.checked) {
      if (old > DISPATCH_LEVEL) throw verifierViolation(0x42, lock * 4, old);
      checkAcquire(this, lock, ctx);
    }
    m.setIrql(ctx.cpu, DISPATCH_LEVEL);
    if (m.mpHal) yield* acquireShared(this, lock);
    noteShared(lock, ctx);
    ctx.apiStack.pop();
    return old;
  },

  /** Exactly DISPATCH_LEVEL. Acquires the lock shared; IRQL is unchanged. */
  *ExAcquireSpinLockSharedAtDpcLevel(this: Kernel, lock: PEX_SPIN_LOCK): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExAcquireSpinLockSharedAtDpcLevel');
    if (m.checked) {
      if (ctx.cpu.irql < DISPATCH_LEVEL) throw verifierViolation(0x40, lock * 4, ctx.cpu.irql);
      checkAcquire(this, lock, ctx);
    }
    if (m.mpHal) yield* acquireShared(this, lock);
    noteShared(lock, ctx);
    ctx.apiStack.pop();
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. Raises to DISPATCH_LEVEL and acquires the lock exclusive: no other
   * holder, shared or exclusive. New readers wait from the moment a writer claims the lock.
   * Returns the previous IRQL.
   */
  *ExAcquireSpinLockExclusive(this: Kernel, lock: PEX_SPIN_LOCK): Routine<KIRQL> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExAcquireSpinLockExclusive');
    yield m.at(OP_IRQL, lock);
    const old = ctx.cpu.irql;
    if (m.checked) {
      if (old > DISPATCH_LEVEL) throw verifierViolation(0x42, lock * 4, old);
      checkAcquire(this, lock, ctx);
    }
    m.setIrql(ctx.cpu, DISPATCH_LEVEL);
    if (m.mpHal) yield* acquireExclusive(this, lock);
    noteExclusive(this, lock, ctx);
    ctx.apiStack.pop();
    return old;
  },

  /** Exactly DISPATCH_LEVEL. Acquires the lock exclusive; IRQL is unchanged. */
  *ExAcquireSpinLockExclusiveAtDpcLevel(this: Kernel, lock: PEX_SPIN_LOCK): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExAcquireSpinLockExclusiveAtDpcLevel');
    if (m.checked) {
      if (ctx.cpu.irql < DISPATCH_LEVEL) throw verifierViolation(0x40, lock * 4, ctx.cpu.irql);
      checkAcquire(this, lock, ctx);
    }
    if (m.mpHal) yield* acquireExclusive(this, lock);
    noteExclusive(this, lock, ctx);
    ctx.apiStack.pop();
  },

  /** DISPATCH_LEVEL, holding the lock shared. Releases it and lowers IRQL to `oldIrql` (ExAcquireSpinLockShared's result). */
  *ExReleaseSpinLockShared(this: Kernel, lock: PEX_SPIN_LOCK, oldIrql: KIRQL): Routine<void> {
    yield* releaseAndLower(this, 'ExReleaseSpinLockShared', lock, false, oldIrql);
  },

  /** DISPATCH_LEVEL, holding the lock shared (acquired AtDpcLevel). Releases it; IRQL is unchanged. */
  *ExReleaseSpinLockSharedFromDpcLevel(this: Kernel, lock: PEX_SPIN_LOCK): Routine<void> {
    yield* releaseFromDpcLevel(this, 'ExReleaseSpinLockSharedFromDpcLevel', lock, false);
  },

  /** DISPATCH_LEVEL, holding the lock exclusive. Releases it and lowers IRQL to `oldIrql`. */
  *ExReleaseSpinLockExclusive(this: Kernel, lock: PEX_SPIN_LOCK, oldIrql: KIRQL): Routine<void> {
    yield* releaseAndLower(this, 'ExReleaseSpinLockExclusive', lock, true, oldIrql);
  },

  /** DISPATCH_LEVEL, holding the lock exclusive (acquired AtDpcLevel, or converted). Releases it; IRQL is unchanged. */
  *ExReleaseSpinLockExclusiveFromDpcLevel(this: Kernel, lock: PEX_SPIN_LOCK): Routine<void> {
    yield* releaseFromDpcLevel(this, 'ExReleaseSpinLockExclusiveFromDpcLevel', lock, true);
  },

  /**
   * DISPATCH_LEVEL, holding the lock shared. TRUE: the caller is now the exclusive holder (it was
   * the only reader and no writer was claiming the lock) and releases it with the Exclusive release
   * that matches its acquire. FALSE: nothing changed, the caller still holds it shared. Always TRUE
   * on a UP HAL. Checked build: not held shared on this CPU → 0x10.
   */
  *ExTryConvertSharedSpinLockExclusive(this: Kernel, lock: PEX_SPIN_LOCK): Routine<boolean> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExTryConvertSharedSpinLockExclusive');
    if (m.checked) {
      if (ctx.cpu.irql < DISPATCH_LEVEL) throw verifierViolation(0x40, lock * 4, ctx.cpu.irql);
      checkRelease(this, lock, ctx, false);
    }
    if (m.mpHal) {
      yield m.at(OP_RMW, lock);
      if (m.cmpxchg(lock, EX_SPIN_LOCK_EXCLUSIVE, 1) !== 1) {
        ctx.apiStack.pop();
        return false;
      }
    }
    m.lockOwners.set(lock, ctx);
    ctx.apiStack.pop();
    return true;
  },
};

export type RwSpinLockApi = typeof rwSpinLockApi;
