/**
 * Pool allocation. Blocks come from the machine's deterministic allocator
 * (Memory.allocPool), and the build decides what pool is:
 * - checked (Driver Verifier, special pool on): a freed block is poisoned and
 *   never reused, so any later access bug-checks 0xD5 with its address; the
 *   words on both sides of a block are guards, so an access past its end or
 *   before its start bug-checks 0xD6 at that access.
 * - free: a freed block goes to the next allocation that fits (most recently
 *   freed first), as a lookaside list would hand it out, so a use-after-free
 *   corrupts whatever took the block's place — and shows up as that corruption.
 */
import { BugCheck, ScenarioError, verifierViolation } from '../machine/bugcheck.ts';
import { APC_LEVEL, DISPATCH_LEVEL, irqlName } from '../machine/irql.ts';
import { OP_KERNEL, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';

export const POOL_FLAG_NON_PAGED = 0x40;
export const POOL_FLAG_PAGED = 0x100;
export const NonPagedPool = 0;
export const PagedPool = 1;

/** POOL_TYPE values with bit 0 set are paged (PagedPool, PagedPoolCacheAligned, …). */
function pagedType(poolType: number): boolean {
  return (poolType & 1) === 1;
}

/**
 * Any IRQL up to the pool's limit: APC_LEVEL for paged pool (a page fault
 * above it is fatal), DISPATCH_LEVEL for non-paged. A checked build stops at
 * the call (Verifier 0xC4/0x00, 0x01, 0x02); a free build allocates — paged
 * pool at DISPATCH_LEVEL works until the page is not resident.
 */
function allocate(k: Kernel, paged: boolean, poolType: number, numberOfBytes: number, tag: string, zeroed: boolean): number {
  const m = k.m;
  if (!Number.isInteger(numberOfBytes) || numberOfBytes < 0) {
    throw new ScenarioError(`pool allocation of ${numberOfBytes} bytes: size must be a non-negative integer`);
  }
  if (m.checked) {
    const irql = m.cur.cpu.irql;
    if (numberOfBytes === 0) throw verifierViolation(0x00, irql, poolType, 0, `zero-byte pool allocation ('${tag}')`);
    if (paged && irql > APC_LEVEL) {
      throw verifierViolation(0x01, irql, poolType, numberOfBytes, `paged pool ('${tag}', ${numberOfBytes} bytes) allocated at ${irqlName(irql)}`);
    }
    if (!paged && irql > DISPATCH_LEVEL) {
      throw verifierViolation(0x02, irql, poolType, numberOfBytes, `non-paged pool ('${tag}', ${numberOfBytes} bytes) allocated at ${irqlName(irql)}`);
    }
  }
  const words = Math.max(1, Math.ceil(numberOfBytes / 4));
  const fresh = m.memory.top;
  const a = m.memory.allocPool(words, tag, m.checked, !m.checked);
  // A block from the bump allocator is still zero; one handed out again holds what its last owner left.
  if (zeroed && a < fresh) m.words.fill(0, a, a + words);
  if (paged) m.memory.blocks.get(a)!.paged = true;
  return a;
}

export const poolApi = {
  /** IRQL ≤ APC_LEVEL with POOL_FLAG_PAGED, ≤ DISPATCH_LEVEL otherwise. Returns a zeroed block (word address). */
  ExAllocatePool2(this: Kernel, flags: number, numberOfBytes: number, tag: string): number {
    return allocate(this, (flags & POOL_FLAG_PAGED) !== 0, flags, numberOfBytes, tag, true);
  },

  /**
   * IRQL ≤ APC_LEVEL for a paged POOL_TYPE, ≤ DISPATCH_LEVEL otherwise. The block is not
   * initialized: on a free build a reused block still holds what its previous owner wrote.
   */
  ExAllocatePoolWithTag(this: Kernel, poolType: number, numberOfBytes: number, tag: string): number {
    return allocate(this, pagedType(poolType), poolType, numberOfBytes, tag, false);
  },

  /**
   * Any IRQL, no scheduling point (a plain call, usable from invariants): how many pool blocks
   * allocated under `tag` are still allocated — what Driver Verifier's pool tracking counts.
   */
  poolOutstanding(this: Kernel, tag: string): number {
    return this.m.memory.outstanding(tag);
  },

  /**
   * IRQL ≤ APC_LEVEL for paged pool, ≤ DISPATCH_LEVEL for non-paged (checked
   * build: 0xC4/0x11, 0x12). Freeing twice is BAD_POOL_CALLER (0xC2, parameter 1 = 7).
   */
  *ExFreePoolWithTag(this: Kernel, p: number, _tag = ''): Routine<void> {
    const m = this.m;
    yield m.at(OP_KERNEL, p);
    const b = m.memory.blocks.get(p);
    if (m.checked && b !== undefined) {
      const irql = m.cur.cpu.irql;
      if (b.paged && irql > APC_LEVEL) throw verifierViolation(0x11, irql, 1, p * 4, `paged pool ${m.nameOf(p)} freed at ${irqlName(irql)}`);
      if (!b.paged && irql > DISPATCH_LEVEL) throw verifierViolation(0x12, irql, 0, p * 4, `non-paged pool ${m.nameOf(p)} freed at ${irqlName(irql)}`);
    }
    if (!m.memory.free(p)) {
      throw new BugCheck(0xc2, 7, 0, p * 4, 0, b ? `${m.nameOf(p)} freed twice` : `${m.describeAddress(p)} is not the start of a pool block`);
    }
  },

  *ExFreePool(this: Kernel, p: number): Routine<void> {
    yield* this.ExFreePoolWithTag(p);
  },
};

export type PoolApi = typeof poolApi;
