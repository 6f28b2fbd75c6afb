/**
 * Machine memory: one Int32Array addressed in 32-bit words — over a
 * SharedArrayBuffer when the CPUs run in workers of their own (free-run hands
 * its shared buffers to the constructor), over a plain ArrayBuffer when one
 * thread steps them all (the controlled engine: nothing to share, and both
 * accesses and fill() cost more on shared memory, on every step and every run). Word 0..15 (the first cache line) is never
 * handed out, so address 0 is NULL.
 *
 * The pool allocator is deterministic (a bump allocator, 16-byte aligned) and
 * never reuses a freed block within a run: like Driver Verifier's special
 * pool, a freed block stays poisoned so a later access can be caught.
 */

export const WORDS_PER_LINE = 16;
export const POISON = 0xbaadf00d | 0;

/** Shadow state of one word. */
export const Shadow = { Unallocated: 0, Allocated: 1, Freed: 2 } as const;

export interface PoolBlock {
  addr: number;
  words: number;
  tag: string;
  freed: boolean;
  /** Paged pool (the pool family sets it; the IRQL rules differ). */
  paged: boolean;
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
      b = { addr, words, tag, freed: false, paged: false };
      this.list.push(b);
    } else {
      b.addr = addr;
      b.words = words;
      b.tag = tag;
      b.freed = false;
      b.paged = false;
    }
    this.size++;
    return b;
  }

  clear(): void {
    this.size = 0;
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

  /** Frees a block; returns false when addr is not the start of a live block. */
  free(addr: number): boolean {
    const b = this.blocks.get(addr);
    if (!b || b.freed) return false;
    b.freed = true;
    this.words.fill(POISON, addr, addr + b.words);
    this.shadow.fill(Shadow.Freed, addr, addr + b.words);
    return true;
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
