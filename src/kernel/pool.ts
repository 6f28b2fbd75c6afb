/**
 * Pool allocation. Blocks come from the machine's deterministic allocator;
 * a freed block is poisoned and never reused within a run, so a checked build
 * (Verifier special pool) catches any later access with the faulting address.
 */
import { BugCheck, ScenarioError } from '../machine/bugcheck.ts';
import { OP_KERNEL, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';

export const POOL_FLAG_NON_PAGED = 0x40;
export const POOL_FLAG_PAGED = 0x100;
export const NonPagedPool = 0;
export const PagedPool = 1;

function words(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes <= 0) throw new ScenarioError(`pool allocation of ${bytes} bytes: size must be a positive integer`);
  return Math.ceil(bytes / 4);
}

export const poolApi = {
  /** IRQL ≤ DISPATCH_LEVEL for non-paged pool. Returns a zeroed block (word address). */
  ExAllocatePool2(this: Kernel, _flags: number, numberOfBytes: number, tag: string): number {
    return this.m.memory.alloc(words(numberOfBytes), tag);
  },

  ExAllocatePoolWithTag(this: Kernel, _poolType: number, numberOfBytes: number, tag: string): number {
    return this.m.memory.alloc(words(numberOfBytes), tag);
  },

  /** IRQL ≤ DISPATCH_LEVEL. Freeing twice is BAD_POOL_CALLER (0xC2, parameter 1 = 7). */
  *ExFreePoolWithTag(this: Kernel, p: number, _tag = ''): Routine<void> {
    const m = this.m;
    yield m.at(OP_KERNEL, p);
    if (!m.memory.free(p)) {
      const b = m.memory.blocks.get(p);
      throw new BugCheck(0xc2, 7, 0, p * 4, 0, b ? `${m.nameOf(p)} freed twice` : `${m.describeAddress(p)} is not the start of a pool block`);
    }
  },

  *ExFreePool(this: Kernel, p: number): Routine<void> {
    yield* this.ExFreePoolWithTag(p);
  },
};

export type PoolApi = typeof poolApi;
