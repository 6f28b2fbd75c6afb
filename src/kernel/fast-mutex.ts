/**
 * FAST_MUTEX and guarded mutexes (nt-semantics section 5), with the x64
 * (Vista+) encoding of Count: bit 0 set means UNLOCKED (FM_LOCK_BIT), bit 1
 * says a waiter has been woken and is on its way (FM_LOCK_WAITER_WOKEN), and
 * the rest counts waiters in units of FM_LOCK_WAITER_INC. Waiters block on the
 * Gate, a synchronization event; a release wakes one waiter, which then
 * competes for the lock again — a newcomer may barge in first (not FIFO).
 *
 * Not recursive: a second acquire by the owner waits forever on its own mutex
 * (free build: a hang), and Driver Verifier's deadlock detection stops a
 * checked build at once with 0xC4/0x1000. Acquiring above APC_LEVEL is
 * 0xC4/0x33 on a checked build; releasing at any IRQL but APC_LEVEL 0xC4/0x34.
 * Fast and guarded mutexes take part in Verifier's lock-order graph.
 */
import { verifierViolation, ScenarioError } from '../machine/bugcheck.ts';
import type { ExecContext, Thread } from '../machine/cpu.ts';
import { APC_LEVEL, irqlName } from '../machine/irql.ts';
import { OP_IRQL, OP_PAUSE, OP_RMW, OP_WAIT, OP_WRITE, type Routine } from '../machine/ops.ts';
import { DISPATCHER_OBJECT_WORDS, EventSynchronizationObject, threadAt } from './dispatcher-object.ts';
import { initDispatcherObject, setEventNow } from './dispatcher.ts';
import type { Kernel } from './kernel.ts';
import { OBJ_FAST_MUTEX, OBJ_GUARDED_MUTEX, registeredKind, registerObject } from './object-registry.ts';
import { combinedApcDisable, deliverApcs } from './regions.ts';
import { noteAcquired, noteReleased } from './spinlock.ts';
import { beginWait, WAIT_BLOCKED } from './wait.ts';

export type PFAST_MUTEX = number;
export type PKGUARDED_MUTEX = number;

/** FAST_MUTEX / KGUARDED_MUTEX layout (words): Count, Owner, Contention, OldIrql, then the Gate (a KEVENT). */
export const FM_COUNT = 0;
export const FM_OWNER = 1;
export const FM_CONTENTION = 2;
export const FM_OLD_IRQL = 3;
export const FM_GATE = 4;
export const FAST_MUTEX_WORDS = FM_GATE + DISPATCHER_OBJECT_WORDS;

export const FM_LOCK_BIT = 0x1;
export const FM_LOCK_WAITER_WOKEN = 0x2;
export const FM_LOCK_WAITER_INC = 0x4;

type MutexKind = 'FAST_MUTEX' | 'KGUARDED_MUTEX';

/** The family's per-run state on this processor. */
class FastMutexState {
  /** Which addresses this processor initialized or has met, as what (the owner is FM_OWNER, in machine memory). */
  readonly kind = new Map<number, MutexKind>();
}

/** This processor's fast-mutex state for the run. */
function fmState(k: Kernel): FastMutexState {
  return k.perRun('fast-mutex', () => new FastMutexState());
}

/** Initializes a fast or guarded mutex, free, and makes it known to every processor. */
function init(k: Kernel, addr: number | undefined, kind: MutexKind): number {
  const a = addr ?? k.m.memory.alloc(FAST_MUTEX_WORDS, kind);
  const w = k.m.words;
  w[a + FM_COUNT] = FM_LOCK_BIT;
  w[a + FM_OWNER] = 0;
  w[a + FM_CONTENTION] = 0;
  w[a + FM_OLD_IRQL] = 0;
  initDispatcherObject(k, a + FM_GATE, EventSynchronizationObject, 0);
  k.m.names.set(a + FM_GATE, `${kind}.Gate`);
  fmState(k).kind.set(a, kind);
  registerObject(k, a, kind === 'FAST_MUTEX' ? OBJ_FAST_MUTEX : OBJ_GUARDED_MUTEX);
  return a;
}

/** What `fm` was initialized as (by any processor); a ScenarioError naming `api` when it is neither. */
function kindOf(k: Kernel, fm: number, api: string): MutexKind {
  const st = fmState(k);
  const kind = st.kind.get(fm);
  if (kind !== undefined) return kind;
  const registered = registeredKind(k, fm);
  if (registered === OBJ_FAST_MUTEX || registered === OBJ_GUARDED_MUTEX) {
    const known = registered === OBJ_FAST_MUTEX ? 'FAST_MUTEX' : 'KGUARDED_MUTEX';
    st.kind.set(fm, known);
    return known;
  }
  throw new ScenarioError(`${api}: ${k.m.nameOf(fm)} is not an initialized fast or guarded mutex`);
}

/** Owner of a fast or guarded mutex: the thread whose KTHREAD FM_OWNER names. */
function ownerOf(k: Kernel, fm: number, api: string): Thread | null {
  kindOf(k, fm, api);
  return threadAt(k, k.m.words[fm + FM_OWNER]!);
}

/** Checked-build checks made before any acquire that can wait: self-deadlock, then lock order. */
function verifyAcquire(k: Kernel, fm: number, ctx: ExecContext, api: string): void {
  const t = ctx.thread;
  const owner = ownerOf(k, fm, api);
  if (!k.m.checked) return;
  if (owner !== null && owner === t) {
    throw verifierViolation(0x1000, fm * 4, t.kthread * 4, 0, `self-deadlock: thread '${t.name}' acquires ${k.m.nameOf(fm)} (${api}) while it already owns it; fast mutexes are not recursive`);
  }
  const v = k.verifier.onAcquire(ctx.heldLocks, fm, t?.kthread ?? 0, (a) => k.m.nameOf(a));
  if (v) throw v;
}

/** Checked-build check at release: the caller must own it (Verifier 0x1007 / 0x1004). */
function verifyRelease(k: Kernel, fm: number, ctx: ExecContext, api: string): void {
  const owner = ownerOf(k, fm, api);
  if (!k.m.checked) return;
  const t = ctx.thread;
  if (owner === null) throw verifierViolation(0x1007, fm * 4, 0, 0, `${api}: ${k.m.nameOf(fm)} is not owned`);
  if (owner !== t) throw verifierViolation(0x1004, fm * 4, owner.kthread * 4, (t?.kthread ?? 0) * 4, `${api}: ${k.m.nameOf(fm)} is owned by thread '${owner.name}', not by ${ctx.kind} '${ctx.name}'`);
}

/** The caller now owns the mutex: FM_OWNER names it, and it counts as a held lock. */
function becomeOwner(k: Kernel, fm: number, ctx: ExecContext): void {
  const t = ctx.thread;
  k.m.write(fm + FM_OWNER, t?.kthread ?? 0);
  noteAcquired(k, fm, ctx);
}

/**
 * The lock-word protocol (KiAcquireGuardedMutex): test-and-reset the lock bit;
 * on failure register as a waiter and sleep on the gate, then retry with
 * WOKEN accounting. Called right after a scheduling point on the Count word.
 */
function* lockWord(k: Kernel, fm: number, ctx: ExecContext): Routine<void> {
  const m = k.m;
  const count = fm + FM_COUNT;
  const old = m.and(count, ~FM_LOCK_BIT);
  if ((old & FM_LOCK_BIT) !== 0) {
    becomeOwner(k, fm, ctx);
    return;
  }
  m.xadd(fm + FM_CONTENTION, 1);
  let remove = FM_LOCK_BIT;
  let add = FM_LOCK_WAITER_INC;
  for (;;) {
    // Compare-exchange, not read-then-write: another processor may change Count between the two
    // (when nothing runs in between, the exchange always succeeds).
    const v = m.read(count);
    if ((v & FM_LOCK_BIT) !== 0) {
      if (m.cmpxchg(count, v ^ remove, v) !== v) continue;
      becomeOwner(k, fm, ctx);
      return;
    }
    if (m.cmpxchg(count, v + add, v) !== v) continue;
    const owner = threadAt(k, m.words[fm + FM_OWNER]!);
    const kind = kindOf(k, fm, 'ExAcquireFastMutex');
    const reason = `${kind} ${m.nameOf(fm)}${owner ? ` (owned by thread '${owner.name}')` : ''}`;
    if (beginWait(k, ctx, [fm + FM_GATE], false, null, reason, owner) === WAIT_BLOCKED) yield m.at(OP_WAIT, fm + FM_GATE);
    remove = FM_LOCK_BIT | FM_LOCK_WAITER_WOKEN;
    add = FM_LOCK_WAITER_WOKEN;
    yield m.at(OP_RMW, count);
  }
}

/** Release of the lock word: set the lock bit; wake one waiter unless one is already on its way. */
function* unlockWord(k: Kernel, fm: number, ctx: ExecContext): Routine<void> {
  const m = k.m;
  const count = fm + FM_COUNT;
  yield m.at(OP_WRITE, fm + FM_OWNER);
  m.write(fm + FM_OWNER, 0);
  noteReleased(k, fm, ctx);
  yield m.at(OP_RMW, count);
  const old = m.xadd(count, FM_LOCK_BIT);
  if (old !== 0 && (old & FM_LOCK_WAITER_WOKEN) === 0) {
    const expected = old + FM_LOCK_BIT;
    yield m.at(OP_RMW, count);
    if (m.cmpxchg(count, expected + FM_LOCK_WAITER_WOKEN - FM_LOCK_WAITER_INC, expected) === expected) setEventNow(k, fm + FM_GATE);
  }
}

/** Try-acquire of the lock word: TRUE when the lock bit was set (and is now ours). */
function tryLockWord(k: Kernel, fm: number, ctx: ExecContext): boolean {
  const old = k.m.and(fm + FM_COUNT, ~FM_LOCK_BIT);
  if ((old & FM_LOCK_BIT) === 0) return false;
  becomeOwner(k, fm, ctx);
  return true;
}

export const fastMutexApi = {
  /** IRQL ≤ DISPATCH_LEVEL. Initializes a FAST_MUTEX, free; storage is allocated when omitted. */
  ExInitializeFastMutex(this: Kernel, fastMutex?: PFAST_MUTEX): PFAST_MUTEX {
    return init(this, fastMutex, 'FAST_MUTEX');
  },

  /**
   * IRQL ≤ APC_LEVEL. Raises to APC_LEVEL, acquires (waiting if it is owned),
   * and saves the previous IRQL in the mutex. Not recursive.
   */
  *ExAcquireFastMutex(this: Kernel, fastMutex: PFAST_MUTEX): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExAcquireFastMutex');
    yield m.at(OP_IRQL, fastMutex);
    const cpu = ctx.cpu;
    const old = cpu.irql;
    if (m.checked && old > APC_LEVEL) throw verifierViolation(0x33, old, fastMutex * 4, 0, `ExAcquireFastMutex(${m.nameOf(fastMutex)}) at ${irqlName(old)}`);
    verifyAcquire(this, fastMutex, ctx, 'ExAcquireFastMutex');
    m.setIrql(cpu, APC_LEVEL);
    yield m.at(OP_RMW, fastMutex + FM_COUNT);
    yield* lockWord(this, fastMutex, ctx);
    m.write(fastMutex + FM_OLD_IRQL, old);
    ctx.apiStack.pop();
  },

  /** Exactly APC_LEVEL. Releases and lowers IRQL to the value saved by the acquire. */
  *ExReleaseFastMutex(this: Kernel, fastMutex: PFAST_MUTEX): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExReleaseFastMutex');
    const cpu = ctx.cpu;
    if (m.checked && cpu.irql !== APC_LEVEL) throw verifierViolation(0x34, cpu.irql, fastMutex * 4, 0, `ExReleaseFastMutex(${m.nameOf(fastMutex)}) at ${irqlName(cpu.irql)}`);
    verifyRelease(this, fastMutex, ctx, 'ExReleaseFastMutex');
    const oldIrql = m.read(fastMutex + FM_OLD_IRQL);
    yield* unlockWord(this, fastMutex, ctx);
    yield m.at(OP_IRQL, fastMutex);
    m.setIrql(cpu, oldIrql);
    ctx.apiStack.pop();
    yield* deliverApcs(this);
  },

  /**
   * IRQL ≤ APC_LEVEL. Acquires only if free: TRUE (at APC_LEVEL, as
   * ExAcquireFastMutex) or FALSE (IRQL unchanged, after one YieldProcessor).
   */
  *ExTryToAcquireFastMutex(this: Kernel, fastMutex: PFAST_MUTEX): Routine<boolean> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExTryToAcquireFastMutex');
    yield m.at(OP_IRQL, fastMutex);
    const cpu = ctx.cpu;
    const old = cpu.irql;
    if (m.checked && old > APC_LEVEL) throw verifierViolation(0x33, old, fastMutex * 4, 0, `ExTryToAcquireFastMutex(${m.nameOf(fastMutex)}) at ${irqlName(old)}`);
    ownerOf(this, fastMutex, 'ExTryToAcquireFastMutex');
    m.setIrql(cpu, APC_LEVEL);
    yield m.at(OP_RMW, fastMutex + FM_COUNT);
    if (tryLockWord(this, fastMutex, ctx)) {
      m.write(fastMutex + FM_OLD_IRQL, old);
      ctx.apiStack.pop();
      return true;
    }
    m.setIrql(cpu, old);
    yield m.at(OP_PAUSE, fastMutex);
    m.notePause();
    ctx.apiStack.pop();
    return false;
  },

  /**
   * IRQL = APC_LEVEL, or inside a critical/guarded region. Acquires without
   * touching IRQL or OldIrql. Checked build: otherwise 0xC4/0x39.
   */
  *ExAcquireFastMutexUnsafe(this: Kernel, fastMutex: PFAST_MUTEX): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExAcquireFastMutexUnsafe');
    yield m.at(OP_RMW, fastMutex + FM_COUNT);
    checkUnsafe(this, ctx, fastMutex, 0x39, 'ExAcquireFastMutexUnsafe');
    verifyAcquire(this, fastMutex, ctx, 'ExAcquireFastMutexUnsafe');
    yield* lockWord(this, fastMutex, ctx);
    ctx.apiStack.pop();
  },

  /** As its acquire: IRQL = APC_LEVEL or inside a region (checked: 0xC4/0x3A otherwise). */
  *ExReleaseFastMutexUnsafe(this: Kernel, fastMutex: PFAST_MUTEX): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExReleaseFastMutexUnsafe');
    checkUnsafe(this, ctx, fastMutex, 0x3a, 'ExReleaseFastMutexUnsafe');
    verifyRelease(this, fastMutex, ctx, 'ExReleaseFastMutexUnsafe');
    yield* unlockWord(this, fastMutex, ctx);
    ctx.apiStack.pop();
  },

  /** KeEnterCriticalRegion, then ExAcquireFastMutexUnsafe. */
  *ExEnterCriticalRegionAndAcquireFastMutexUnsafe(this: Kernel, fastMutex: PFAST_MUTEX): Routine<void> {
    yield* this.KeEnterCriticalRegion();
    yield* this.ExAcquireFastMutexUnsafe(fastMutex);
  },

  /** ExReleaseFastMutexUnsafe, then KeLeaveCriticalRegion. */
  *ExReleaseFastMutexUnsafeAndLeaveCriticalRegion(this: Kernel, fastMutex: PFAST_MUTEX): Routine<void> {
    yield* this.ExReleaseFastMutexUnsafe(fastMutex);
    yield* this.KeLeaveCriticalRegion();
  },

  // ---- guarded mutexes -----------------------------------------------------------------------

  /** IRQL ≤ DISPATCH_LEVEL. Initializes a KGUARDED_MUTEX, free. */
  KeInitializeGuardedMutex(this: Kernel, mutex?: PKGUARDED_MUTEX): PKGUARDED_MUTEX {
    return init(this, mutex, 'KGUARDED_MUTEX');
  },

  /**
   * IRQL ≤ APC_LEVEL. Enters a guarded region (all APCs off, IRQL unchanged)
   * and acquires. Not recursive (checked: 0xC4/0x1000).
   */
  *KeAcquireGuardedMutex(this: Kernel, mutex: PKGUARDED_MUTEX): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeAcquireGuardedMutex');
    yield m.at(OP_RMW, mutex + FM_COUNT);
    if (m.checked && ctx.cpu.irql > APC_LEVEL) throw verifierViolation(0x33, ctx.cpu.irql, mutex * 4, 0, `KeAcquireGuardedMutex(${m.nameOf(mutex)}) at ${irqlName(ctx.cpu.irql)}`);
    verifyAcquire(this, mutex, ctx, 'KeAcquireGuardedMutex');
    if (ctx.thread) ctx.thread.specialApcDisable--;
    yield* lockWord(this, mutex, ctx);
    ctx.apiStack.pop();
  },

  /** IRQL ≤ APC_LEVEL. Releases, then leaves the guarded region. */
  *KeReleaseGuardedMutex(this: Kernel, mutex: PKGUARDED_MUTEX): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeReleaseGuardedMutex');
    if (m.checked && ctx.cpu.irql > APC_LEVEL) throw verifierViolation(0x34, ctx.cpu.irql, mutex * 4, 0, `KeReleaseGuardedMutex(${m.nameOf(mutex)}) at ${irqlName(ctx.cpu.irql)}`);
    verifyRelease(this, mutex, ctx, 'KeReleaseGuardedMutex');
    yield* unlockWord(this, mutex, ctx);
    const t = ctx.thread;
    ctx.apiStack.pop();
    if (t) {
      t.specialApcDisable++;
      if (t.specialApcDisable === 0) yield* deliverApcs(this);
    }
  },

  /** IRQL ≤ APC_LEVEL. TRUE (in a guarded region, owning it) or FALSE (nothing changed). */
  *KeTryToAcquireGuardedMutex(this: Kernel, mutex: PKGUARDED_MUTEX): Routine<boolean> {
    const m = this.m;
    const ctx = m.cur;
    yield m.at(OP_RMW, mutex + FM_COUNT);
    ownerOf(this, mutex, 'KeTryToAcquireGuardedMutex');
    if (!tryLockWord(this, mutex, ctx)) return false;
    if (ctx.thread) ctx.thread.specialApcDisable--;
    return true;
  },

  /** Owner of a fast or guarded mutex (for invariants and tests; not an NT API). */
  fastMutexOwner(this: Kernel, mutex: PFAST_MUTEX): string | null {
    return ownerOf(this, mutex, 'fastMutexOwner')?.name ?? null;
  },
};

/** The precondition of the Unsafe variants (checked build). */
function checkUnsafe(k: Kernel, ctx: ExecContext, fm: number, subcode: number, api: string): void {
  if (!k.m.checked) return;
  const irql = ctx.cpu.irql;
  const t = ctx.thread;
  const inRegion = t !== null && combinedApcDisable(t) !== 0;
  if (irql > APC_LEVEL || (irql < APC_LEVEL && !inRegion)) {
    throw verifierViolation(subcode, irql, fm * 4, 0, `${api}(${k.m.nameOf(fm)}) at ${irqlName(irql)}${irql < APC_LEVEL ? ' outside a critical or guarded region' : ''}`);
  }
}

export type FastMutexApi = typeof fastMutexApi;
