/**
 * Rundown protection: EX_RUNDOWN_REF and the cache-aware variant
 * (nt-semantics sections 8 and 16; ReactOS ntoskrnl/ex/rundown.c, the WDK
 * header).
 *
 * One word holds everything. While bit 0 (EX_RUNDOWN_ACTIVE) is clear, the
 * word is `count << 1`; once a wait has started it is `&waitBlock | 1`, where
 * the wait block { Count; WakeEvent } lives on the waiting thread's stack and
 * the outstanding count has moved into it. Every update is a CAS on the whole
 * word, so no acquire can slip in between "rundown started" and "count
 * sampled", and the last releaser signals the waiter: no window and no lost
 * wake-up. After a wait the word keeps pointing at the (dead) stack block.
 *
 * The waiter sleeps in KeWaitForSingleObject on WakeEvent (a
 * SynchronizationEvent initialized in the wait block), and the last releaser
 * calls KeSetEvent — the dispatcher family's real wait, so waiting from a DPC
 * or at DISPATCH_LEVEL raises what KeWaitForSingleObject raises.
 *
 * Pointers in the word are byte addresses (word address × 4), so bit 0 is free.
 */
import { BugCheck, ScenarioError } from '../machine/bugcheck.ts';
import { APC_LEVEL } from '../machine/irql.ts';
import { OP_KERNEL, OP_READ, OP_RMW, type Routine } from '../machine/ops.ts';
import { DISPATCHER_OBJECT_WORDS } from './dispatcher.ts';
import { RUNDOWN_NEVER_DRAINS, waitBegins, waitEnds } from './liveness.ts';
import type { Kernel } from './kernel.ts';
import { Executive, KernelMode, STATUS_ASSERTION_FAILURE, SynchronizationEvent } from './status.ts';

export const EX_RUNDOWN_ACTIVE = 0x1;
export const EX_RUNDOWN_COUNT_SHIFT = 1;
export const EX_RUNDOWN_COUNT_INC = 2;

/** EX_RUNDOWN_WAIT_BLOCK layout (words): Count, then the KEVENT WakeEvent. */
export const WAIT_BLOCK_COUNT = 0;
export const WAIT_BLOCK_EVENT = 1;
export const WAIT_BLOCK_WORDS = 1 + DISPATCHER_OBJECT_WORDS;

/** EX_RUNDOWN_REF_CACHE_AWARE layout (words). */
export const CA_RUN_REFS = 0;
export const CA_POOL_TO_FREE = 1;
export const CA_RUN_REF_SIZE = 2;
export const CA_NUMBER = 3;
export const CA_HEADER_WORDS = 4;
/** PoolToFree when the caller supplied the storage. */
export const CA_CALLER_STORAGE = 0xbadca11;

export type PEX_RUNDOWN_REF = number;
export type PEX_RUNDOWN_REF_CACHE_AWARE = number;

/** A checked build's NT_ASSERT: KMODE_EXCEPTION_NOT_HANDLED with STATUS_ASSERTION_FAILURE. */
function assertionFailure(k: Kernel, detail: string): BugCheck {
  return new BugCheck(0x1e, STATUS_ASSERTION_FAILURE, 0, 0, 0, `assertion failed: ${detail}`);
}

const blockOf = (v: number): number => (v & ~EX_RUNDOWN_ACTIVE) >>> 2;

/** Acquire loop shared by the plain and the cache-aware API: ExfAcquireRundownProtectionEx. */
function* acquire(k: Kernel, ref: number, n: number): Routine<boolean> {
  const m = k.m;
  const inc = (n * EX_RUNDOWN_COUNT_INC) | 0;
  // The inline fast path: CAS with the expected value read as "not active".
  yield m.at(OP_READ, ref);
  let v = m.read(ref) & ~EX_RUNDOWN_ACTIVE;
  yield m.at(OP_RMW, ref);
  let old = m.cmpxchg(ref, (v + inc) | 0, v);
  if (old === v) return true;
  // The slow path: fail as soon as a wait has started, else retry the CAS.
  for (;;) {
    v = old;
    if ((v & EX_RUNDOWN_ACTIVE) !== 0) return false;
    yield m.at(OP_RMW, ref);
    old = m.cmpxchg(ref, (v + inc) | 0, v);
    if (old === v) return true;
  }
}

/** Release loop shared by the plain and the cache-aware API: ExfReleaseRundownProtectionEx. */
function* release(k: Kernel, ref: number, n: number): Routine<void> {
  const m = k.m;
  const dec = (n * EX_RUNDOWN_COUNT_INC) | 0;
  yield m.at(OP_READ, ref);
  let v = m.read(ref);
  for (;;) {
    if ((v & EX_RUNDOWN_ACTIVE) !== 0) {
      // A wait is in progress (or over): the count lives in the waiter's block.
      const block = blockOf(v);
      yield m.at(OP_RMW, block + WAIT_BLOCK_COUNT);
      const before = m.xadd(block + WAIT_BLOCK_COUNT, -n);
      if (before === n) {
        // The last one out wakes the owner.
        yield* k.KeSetEvent(block + WAIT_BLOCK_EVENT, 0, false);
      }
      return;
    }
    yield m.at(OP_RMW, ref);
    const old = m.cmpxchg(ref, (v - dec) | 0, v);
    if (old === v) return;
    v = old;
  }
}

/** A wait block on the waiting thread's "stack", its event not signalled. */
function newWaitBlock(k: Kernel): number {
  const m = k.m;
  const block = m.memory.alloc(WAIT_BLOCK_WORDS, 'EX_RUNDOWN_WAIT_BLOCK');
  m.names.set(block, `EX_RUNDOWN_WAIT_BLOCK(${m.cur.name})`);
  m.names.set(block + WAIT_BLOCK_EVENT, `EX_RUNDOWN_WAIT_BLOCK(${m.cur.name}).WakeEvent`);
  k.KeInitializeEvent(SynchronizationEvent, false, block + WAIT_BLOCK_EVENT);
  return block;
}

/**
 * The waiter's KeWaitForSingleObject(&WaitBlock.WakeEvent, Executive, KernelMode, FALSE, NULL),
 * noted as a rundown wait so a run that ends with it still waiting is reported as a rundown that
 * never drains (liveness.ts).
 */
function* waitForWake(k: Kernel, block: number, ref: number, api: string): Routine<void> {
  waitBegins(k, RUNDOWN_NEVER_DRAINS, api, ref, (kk) => {
    const left = kk.peek(block + WAIT_BLOCK_COUNT);
    return `${left} rundown protection${left === 1 ? '' : 's'} that ${left === 1 ? 'was' : 'were'} never released`;
  });
  yield* k.KeWaitForSingleObject(block + WAIT_BLOCK_EVENT, Executive, KernelMode, false, null);
  waitEnds(k, ref);
}

function checkWaitIrql(k: Kernel, api: string): void {
  const m = k.m;
  // PAGED_CODE(): a checked build asserts IRQL ≤ APC_LEVEL.
  if (m.checked && m.cur.cpu.irql > APC_LEVEL) throw assertionFailure(k, `${api} called above APC_LEVEL (PAGED_CODE)`);
}

function slotCount(k: Kernel, p: number): number {
  const n = k.m.words[p + CA_NUMBER]!;
  if (n <= 0) throw new ScenarioError(`${k.m.nameOf(p)} is not an initialized cache-aware rundown reference`);
  return n;
}

/** The current processor's slot of a cache-aware reference. */
function currentSlot(k: Kernel, p: number): number {
  const m = k.m;
  const n = slotCount(k, p);
  const base = m.words[p + CA_RUN_REFS]! >>> 2;
  const size = m.words[p + CA_RUN_REF_SIZE]! >>> 2;
  return base + (m.cur.cpu.index % n) * size;
}

export const rundownApi = {
  /** Any IRQL. Word = 0: no protections outstanding, no rundown. Allocates the word when none is given. */
  ExInitializeRundownProtection(this: Kernel, ref?: PEX_RUNDOWN_REF): PEX_RUNDOWN_REF {
    const r = ref ?? this.m.memory.alloc(1, 'EX_RUNDOWN_REF');
    this.m.write(r, 0);
    return r;
  },

  /**
   * ≤ APC_LEVEL, after a completed rundown. Sets the word back to 0 so the
   * object can be used again. A checked build asserts the active bit is set.
   */
  *ExReInitializeRundownProtection(this: Kernel, ref: PEX_RUNDOWN_REF): Routine<void> {
    const m = this.m;
    yield m.at(OP_RMW, ref);
    const old = m.xchg(ref, 0);
    if (m.checked && (old & EX_RUNDOWN_ACTIVE) === 0) {
      throw assertionFailure(this, `ExReInitializeRundownProtection on ${m.nameOf(ref)}, which was never run down`);
    }
  },

  /**
   * ≤ DISPATCH_LEVEL (nonpaged reference). TRUE: the object may be used until
   * the matching release. FALSE as soon as ExWaitForRundownProtectionRelease
   * has started — even while earlier holders are still inside; the object must
   * then be treated as gone.
   */
  *ExAcquireRundownProtection(this: Kernel, ref: PEX_RUNDOWN_REF): Routine<boolean> {
    const ctx = this.m.cur;
    ctx.apiStack.push('ExAcquireRundownProtection');
    const ok = yield* acquire(this, ref, 1);
    ctx.apiStack.pop();
    return ok;
  },

  /** ≤ DISPATCH_LEVEL. As ExAcquireRundownProtection, taking `count` protections at once (all or none). */
  *ExAcquireRundownProtectionEx(this: Kernel, ref: PEX_RUNDOWN_REF, count: number): Routine<boolean> {
    const ctx = this.m.cur;
    ctx.apiStack.push('ExAcquireRundownProtectionEx');
    const ok = yield* acquire(this, ref, count);
    ctx.apiStack.pop();
    return ok;
  },

  /**
   * ≤ DISPATCH_LEVEL. Drops one protection. During a rundown it decrements the
   * waiter's count and the last releaser signals the waiter. After a completed
   * rundown (word = 1, only reachable by an unmatched release) the NULL wait
   * block is dereferenced.
   */
  *ExReleaseRundownProtection(this: Kernel, ref: PEX_RUNDOWN_REF): Routine<void> {
    const ctx = this.m.cur;
    ctx.apiStack.push('ExReleaseRundownProtection');
    yield* release(this, ref, 1);
    ctx.apiStack.pop();
  },

  /** ≤ DISPATCH_LEVEL. Drops `count` protections; signals when the waiter's count was exactly `count`. */
  *ExReleaseRundownProtectionEx(this: Kernel, ref: PEX_RUNDOWN_REF, count: number): Routine<void> {
    const ctx = this.m.cur;
    ctx.apiStack.push('ExReleaseRundownProtectionEx');
    yield* release(this, ref, count);
    ctx.apiStack.pop();
  },

  /**
   * ≤ APC_LEVEL (PAGED_CODE). Starts the rundown: from now on every acquire
   * fails; then waits until every protection taken before is released.
   * Returns at once when nobody was inside or the rundown had completed. On
   * return the word still holds `&deadStackBlock | 1`. Calling it again without
   * ExRundownCompleted in between misreads that pointer as a count: it hangs.
   */
  *ExWaitForRundownProtectionRelease(this: Kernel, ref: PEX_RUNDOWN_REF): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExWaitForRundownProtectionRelease');
    checkWaitIrql(this, 'ExWaitForRundownProtectionRelease');
    yield m.at(OP_RMW, ref);
    let v = m.cmpxchg(ref, EX_RUNDOWN_ACTIVE, 0);
    if (v === 0 || v === EX_RUNDOWN_ACTIVE) {
      ctx.apiStack.pop();
      return;
    }
    // The wait block on this thread's stack (private until the CAS publishes it).
    const block = newWaitBlock(this);
    let count: number;
    for (;;) {
      count = v >>> EX_RUNDOWN_COUNT_SHIFT;
      m.write(block + WAIT_BLOCK_COUNT, count);
      yield m.at(OP_RMW, ref);
      const old = m.cmpxchg(ref, ((block * 4) | EX_RUNDOWN_ACTIVE) | 0, v);
      if (old === v) break;
      v = old;
    }
    if (count !== 0) yield* waitForWake(this, block, ref, 'ExWaitForRundownProtectionRelease');
    if (m.checked && m.read(block + WAIT_BLOCK_COUNT) !== 0) {
      throw assertionFailure(this, `rundown of ${m.nameOf(ref)} woke with WaitBlock.Count = ${m.read(block + WAIT_BLOCK_COUNT)}`);
    }
    // The stack frame is gone: the word now points at dead memory.
    m.memory.free(block);
    ctx.apiStack.pop();
  },

  /**
   * ≤ APC_LEVEL, after ExWaitForRundownProtectionRelease. Sets the word to 1:
   * later waits return at once and acquires keep failing. A checked build
   * asserts that the rundown was started.
   */
  *ExRundownCompleted(this: Kernel, ref: PEX_RUNDOWN_REF): Routine<void> {
    const m = this.m;
    yield m.at(OP_RMW, ref);
    const old = m.xchg(ref, EX_RUNDOWN_ACTIVE);
    if (m.checked && (old & EX_RUNDOWN_ACTIVE) === 0) {
      throw assertionFailure(this, `ExRundownCompleted on ${m.nameOf(ref)}, which was never run down`);
    }
  },

  // ---- cache-aware rundown (one EX_RUNDOWN_REF per processor) ----------------------------------

  /**
   * Words an EX_RUNDOWN_REF_CACHE_AWARE needs: the header, then one slot per
   * processor padded to a cache line (MP), or a single unpadded slot (UP).
   * (Windows counts bytes; this box counts 32-bit words ×4 = bytes.)
   */
  ExSizeOfRundownProtectionCacheAware(this: Kernel): number {
    const m = this.m;
    const n = m.online.length;
    return n > 1 ? (CA_HEADER_WORDS + (n + 1) * 16) * 4 : (CA_HEADER_WORDS + 1) * 4;
  },

  /** Any IRQL. Lays out a cache-aware reference in caller storage of `size` bytes (see ExSizeOfRundownProtectionCacheAware). */
  ExInitializeRundownProtectionCacheAware(this: Kernel, p: PEX_RUNDOWN_REF_CACHE_AWARE, size: number): void {
    const m = this.m;
    const n = m.online.length;
    if (size < this.ExSizeOfRundownProtectionCacheAware()) throw new ScenarioError('ExInitializeRundownProtectionCacheAware: storage too small');
    let first: number;
    let slotWords: number;
    if (n > 1) {
      slotWords = 16;
      first = Math.ceil((p + CA_HEADER_WORDS) / 16) * 16;
    } else {
      slotWords = 1;
      first = p + CA_HEADER_WORDS;
    }
    m.write(p + CA_RUN_REFS, first * 4);
    m.write(p + CA_POOL_TO_FREE, CA_CALLER_STORAGE);
    m.write(p + CA_RUN_REF_SIZE, slotWords * 4);
    m.write(p + CA_NUMBER, n);
    for (let i = 0; i < n; i++) m.write(first + i * slotWords, 0);
  },

  /** ≤ DISPATCH_LEVEL. Allocates and initializes a cache-aware reference (setup time). */
  ExAllocateCacheAwareRundownProtection(this: Kernel, _poolType = 0, tag = 'RnDn'): PEX_RUNDOWN_REF_CACHE_AWARE {
    const m = this.m;
    const size = this.ExSizeOfRundownProtectionCacheAware();
    const p = m.memory.alloc(size / 4, tag, true);
    this.ExInitializeRundownProtectionCacheAware(p, size);
    m.write(p + CA_POOL_TO_FREE, p * 4);
    return p;
  },

  /** ≤ DISPATCH_LEVEL. Frees a reference from ExAllocateCacheAwareRundownProtection. */
  *ExFreeCacheAwareRundownProtection(this: Kernel, p: PEX_RUNDOWN_REF_CACHE_AWARE): Routine<void> {
    const m = this.m;
    yield m.at(OP_KERNEL, p);
    const pool = m.read(p + CA_POOL_TO_FREE);
    if (pool === CA_CALLER_STORAGE) throw new ScenarioError('ExFreeCacheAwareRundownProtection: the storage was supplied by the caller');
    if (!m.memory.free(pool >>> 2)) throw new BugCheck(0xc2, 7, 0, pool, 0, `${m.nameOf(p)} freed twice`);
  },

  /** ≤ DISPATCH_LEVEL. Acquires on the current processor's slot; FALSE once a rundown has started. */
  *ExAcquireRundownProtectionCacheAware(this: Kernel, p: PEX_RUNDOWN_REF_CACHE_AWARE): Routine<boolean> {
    return yield* acquire(this, currentSlot(this, p), 1);
  },

  *ExAcquireRundownProtectionCacheAwareEx(this: Kernel, p: PEX_RUNDOWN_REF_CACHE_AWARE, count: number): Routine<boolean> {
    return yield* acquire(this, currentSlot(this, p), count);
  },

  /**
   * ≤ DISPATCH_LEVEL. Releases on the current processor's slot — which may not
   * be the slot the acquire used, so one slot can go "negative"; only the sum
   * of all slots means anything.
   */
  *ExReleaseRundownProtectionCacheAware(this: Kernel, p: PEX_RUNDOWN_REF_CACHE_AWARE): Routine<void> {
    yield* release(this, currentSlot(this, p), 1);
  },

  *ExReleaseRundownProtectionCacheAwareEx(this: Kernel, p: PEX_RUNDOWN_REF_CACHE_AWARE, count: number): Routine<void> {
    yield* release(this, currentSlot(this, p), count);
  },

  /**
   * ≤ APC_LEVEL. Swaps `&block | 1` into every slot (each must not be active
   * yet), adds up what the slots held, adds that to the shared block's count
   * (late releasers may already have driven it negative) and waits only if
   * references remain (the intent of the ReactOS code, whose test is inverted).
   */
  *ExWaitForRundownProtectionReleaseCacheAware(this: Kernel, p: PEX_RUNDOWN_REF_CACHE_AWARE): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('ExWaitForRundownProtectionReleaseCacheAware');
    checkWaitIrql(this, 'ExWaitForRundownProtectionReleaseCacheAware');
    const n = slotCount(this, p);
    const base = m.words[p + CA_RUN_REFS]! >>> 2;
    const size = m.words[p + CA_RUN_REF_SIZE]! >>> 2;
    const block = newWaitBlock(this);
    m.write(block + WAIT_BLOCK_COUNT, 0);
    const blockPtr = ((block * 4) | EX_RUNDOWN_ACTIVE) | 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const slot = base + i * size;
      yield m.at(OP_READ, slot);
      let v = m.read(slot);
      for (;;) {
        if (m.checked && (v & EX_RUNDOWN_ACTIVE) !== 0) {
          throw assertionFailure(this, `slot ${i} of ${m.nameOf(p)} is already run down (a second wait without ExReInitializeRundownProtectionCacheAware)`);
        }
        yield m.at(OP_RMW, slot);
        const old = m.cmpxchg(slot, blockPtr, v);
        if (old === v) break;
        v = old;
      }
      total = (total + v) | 0;
    }
    const count = total >> EX_RUNDOWN_COUNT_SHIFT;
    yield m.at(OP_RMW, block + WAIT_BLOCK_COUNT);
    const before = m.xadd(block + WAIT_BLOCK_COUNT, count);
    if (((before + count) | 0) !== 0) yield* waitForWake(this, block, p, 'ExWaitForRundownProtectionReleaseCacheAware');
    m.memory.free(block);
    ctx.apiStack.pop();
  },

  /** ≤ APC_LEVEL. Sets every slot to 1 (run down, no wait block). */
  *ExRundownCompletedCacheAware(this: Kernel, p: PEX_RUNDOWN_REF_CACHE_AWARE): Routine<void> {
    const m = this.m;
    const n = slotCount(this, p);
    const base = m.words[p + CA_RUN_REFS]! >>> 2;
    const size = m.words[p + CA_RUN_REF_SIZE]! >>> 2;
    for (let i = 0; i < n; i++) {
      yield m.at(OP_RMW, base + i * size);
      m.xchg(base + i * size, EX_RUNDOWN_ACTIVE);
    }
  },

  /** ≤ APC_LEVEL, after a completed rundown: every slot back to 0. */
  *ExReInitializeRundownProtectionCacheAware(this: Kernel, p: PEX_RUNDOWN_REF_CACHE_AWARE): Routine<void> {
    const m = this.m;
    const n = slotCount(this, p);
    const base = m.words[p + CA_RUN_REFS]! >>> 2;
    const size = m.words[p + CA_RUN_REF_SIZE]! >>> 2;
    for (let i = 0; i < n; i++) {
      yield m.at(OP_RMW, base + i * size);
      const old = m.xchg(base + i * size, 0);
      if (m.checked && (old & EX_RUNDOWN_ACTIVE) === 0) {
        throw assertionFailure(this, `ExReInitializeRundownProtectionCacheAware on ${m.nameOf(p)}, which was never run down`);
      }
    }
  },
};

export type RundownApi = typeof rundownApi;
