/**
 * Machine memory: one Int32Array addressed in 32-bit words — over a
 * SharedArrayBuffer when the CPUs run in workers of their own (free-run hands
 * its shared buffers to the constructor), over a plain ArrayBuffer when one
 * thread steps them all (the controlled engine: nothing to share, and both
 * accesses and fill() cost more on shared memory, on every step and every run). Word 0..15 (the first cache line) is never
 * handed out, so address 0 is NULL.
 *
 * The allocator is deterministic (a bump allocator, 16-byte aligned). Kernel
 * objects never reuse a freed block within a run. Driver pool (allocPool) is
 * what the build makes it: on a checked build it is Driver Verifier's special
 * pool — never reused, and fenced by guard words on both sides so an access
 * past either end faults at once; on a free build a freed pool block is handed
 * to the next pool allocation that fits (most recently freed first, like a
 * lookaside list), so a use-after-free lands in whatever took its place.
 */

export const WORDS_PER_LINE = 16;
export const POISON = 0xbaadf00d | 0;

/**
 * Shadow state of one word. Guard: a special-pool fence word next to a driver's
 * allocation (checked build); touching it is an access beyond the allocation.
 * Every state but Allocated sends an access to Machine.badAccess, so the fence
 * costs the hot path nothing beyond the check it already makes.
 */
export const Shadow = { Unallocated: 0, Allocated: 1, Freed: 2, Guard: 3 } as const;

/** Alignment of a block in words (16 bytes). */
const BLOCK_ALIGN = 4;

function alignUp(a: number): number {
  return (a + BLOCK_ALIGN - 1) & ~(BLOCK_ALIGN - 1);
}

export interface PoolBlock {
  addr: number;
  words: number;
  tag: string;
  freed: boolean;
  /** Paged pool (the pool family sets it; the IRQL rules differ). */
  paged: boolean;
  /** Allocated by the driver's pool calls (allocPool): reusable once freed on a free build. */
  pool: boolean;
  /** Words the block occupies (≥ words once a reuse handed it to a smaller allocation). */
  capacity: number;
}

export class OutOfMachineMemory extends Error {}

/**
 * The pool's blocks in address order (the allocator only bumps upwards), kept
 * in reused objects: a run allocates its objects afresh, and a Map entry and
 * a block object per allocation showed up in every schedule's cost.
 */
export class BlockTable {
  private readonly list: PoolBlock[] = [];
  size = 0;

  add(addr: number, words: number, tag: string): PoolBlock {
    let b = this.list[this.size];
    if (b === undefined) {
      b = { addr, words, tag, freed: false, paged: false, pool: false, capacity: words };
      this.list.push(b);
    } else {
      b.addr = addr;
      b.words = words;
      b.tag = tag;
      b.freed = false;
      b.paged = false;
      b.pool = false;
      b.capacity = words;
    }
    this.size++;
    return b;
  }

  /** Freed pool blocks a free build may hand out again, most recently freed last. */
  readonly reusable: PoolBlock[] = [];

  clear(): void {
    this.size = 0;
    this.reusable.length = 0;
  }

  /** The block after the one that starts at or below addr (the first block when none does). */
  following(addr: number): PoolBlock | undefined {
    const i = this.floor(addr) + 1;
    return i < this.size ? this.list[i] : undefined;
  }

  /** The last block that starts at or below addr. */
  atOrBelow(addr: number): PoolBlock | undefined {
    const i = this.floor(addr);
    return i >= 0 ? this.list[i] : undefined;
  }

  /** Index of the last block starting at or below addr, or -1. */
  private floor(addr: number): number {
    let lo = 0;
    let hi = this.size - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.addr <= addr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The block that starts at addr. */
  get(addr: number): PoolBlock | undefined {
    const i = this.floor(addr);
    return i >= 0 && this.list[i]!.addr === addr ? this.list[i] : undefined;
  }

  has(addr: number): boolean {
    return this.get(addr) !== undefined;
  }

  /** The block that contains addr. */
  containing(addr: number): PoolBlock | undefined {
    const i = this.floor(addr);
    if (i < 0) return undefined;
    const b = this.list[i]!;
    return addr < b.addr + b.words ? b : undefined;
  }

  *values(): IterableIterator<PoolBlock> {
    for (let i = 0; i < this.size; i++) yield this.list[i]!;
  }
}

export class Memory {
  readonly words: Int32Array;
  readonly shadow: Uint8Array;
  /** Next free word of the bump allocator. */
  top = WORDS_PER_LINE;
  readonly blocks = new BlockTable();

  constructor(
    readonly size: number,
    words?: Int32Array,
  ) {
    this.words = words ?? new Int32Array(size);
    this.shadow = new Uint8Array(size);
  }

  /** Back to power-on state; only the used part is cleared, so a reset costs what the run used. */
  reset(): void {
    this.words.fill(0, 0, this.top);
    this.shadow.fill(Shadow.Unallocated, 0, this.top);
    this.top = WORDS_PER_LINE;
    this.blocks.clear();
  }

  alloc(words: number, tag: string, lineAligned = false): number {
    // Both alignments are powers of two: rounding up with a mask, not a division.
    const mask = lineAligned ? WORDS_PER_LINE - 1 : 3;
    const addr = (this.top + mask) & ~mask;
    const n = Math.max(1, words);
    if (addr + n > this.size) {
      throw new OutOfMachineMemory(
        `machine memory exhausted: ${n} words for '${tag}' do not fit in ${this.size} words (raise the rig's memoryWords)`,
      );
    }
    this.top = addr + n;
    // Most blocks are a few words: a loop beats fill()'s call into the runtime.
    const shadow = this.shadow;
    if (n <= 32) for (let i = addr; i < addr + n; i++) shadow[i] = Shadow.Allocated;
    else shadow.fill(Shadow.Allocated, addr, addr + n);
    this.blocks.add(addr, n, tag);
    return addr;
  }

  /**
   * A driver's pool allocation (ExAllocatePool2 / ExAllocatePoolWithTag).
   * `special` (checked build, Verifier special pool): every word between the
   * block and its neighbours is a Guard word — at least one before and one
   * after — so an access just past either end faults at once. `reuse` (free
   * build): the most recently freed pool block with room for it is handed out
   * again, its old contents left in place (zeroing is the caller's business).
   */
  allocPool(words: number, tag: string, special: boolean, reuse: boolean): number {
    const n = Math.max(1, words);
    if (reuse) {
      const r = this.blocks.reusable;
      for (let i = r.length - 1; i >= 0; i--) {
        const b = r[i]!;
        if (b.capacity < n) continue;
        r.splice(i, 1);
        b.freed = false;
        b.tag = tag;
        b.words = n;
        b.paged = false;
        this.shadow.fill(Shadow.Allocated, b.addr, b.addr + n);
        return b.addr;
      }
    }
    if (!special) {
      const a = this.alloc(n, tag);
      this.blocks.get(a)!.pool = true;
      return a;
    }
    // alloc() rounds top up to the block alignment: one word more leaves room for the front guard.
    const start = this.top;
    const at = alignUp(start + 1);
    const after = alignUp(at + n + 1) - (at + n);
    this.top = start + 1;
    const a = this.alloc(n + after, tag);
    const b = this.blocks.get(a)!;
    b.words = n;
    b.capacity = n;
    b.pool = true;
    this.shadow.fill(Shadow.Guard, start, a);
    this.shadow.fill(Shadow.Guard, a + n, a + n + after);
    return a;
  }

  /** Frees a block; returns false when addr is not the start of a live block. */
  free(addr: number): boolean {
    const b = this.blocks.get(addr);
    if (!b || b.freed) return false;
    b.freed = true;
    this.words.fill(POISON, addr, addr + b.words);
    this.shadow.fill(Shadow.Freed, addr, addr + b.words);
    if (b.pool) this.blocks.reusable.push(b);
    return true;
  }

  /**
   * Whether a pool block is still allocated. Judged from the shadow map too: under free-run each
   * CPU worker keeps its own block table, and only the shared shadow map knows that another CPU
   * freed the block.
   */
  live(b: PoolBlock): boolean {
    return !b.freed && this.shadow[b.addr] === Shadow.Allocated;
  }

  /** Live pool blocks allocated under `tag` (a plain walk: for invariants and the end of a run). */
  outstanding(tag: string): number {
    let n = 0;
    for (const b of this.blocks.values()) if (b.pool && b.tag === tag && this.live(b)) n++;
    return n;
  }

  /**
   * For an address in a guard word: the special-pool block it fences and on which side, with the
   * distance in bytes past that end (beyond) or before that start.
   */
  guarded(addr: number): { block: PoolBlock; beyond: boolean; bytes: number } | undefined {
    const prev = this.blocks.atOrBelow(addr);
    if (prev && prev.pool && addr >= prev.addr + prev.words && addr < alignUp(prev.addr + prev.words + 1)) {
      return { block: prev, beyond: true, bytes: (addr - (prev.addr + prev.words)) * 4 };
    }
    const next = this.blocks.following(addr);
    if (next && next.pool) return { block: next, beyond: false, bytes: (next.addr - addr) * 4 };
    return undefined;
  }

  /** The live or freed block that contains addr, if any. */
  blockAt(addr: number): PoolBlock | undefined {
    return this.blocks.containing(addr);
  }
}

/** Addresses are shown as byte addresses in the style of a kernel pointer. */
export function formatAddress(wordAddr: number): string {
  return `0x${(wordAddr * 4).toString(16).padStart(8, '0')}`;
}
