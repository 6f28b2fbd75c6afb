/**
 * Machine memory: one Int32Array (over a SharedArrayBuffer when the host has
 * one), addressed in 32-bit words. Word 0..15 (the first cache line) is never
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
}

export class OutOfMachineMemory extends Error {}

export function createBuffer(words: number): Int32Array {
  const bytes = words * 4;
  const buf = typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  return new Int32Array(buf);
}

export class Memory {
  readonly words: Int32Array;
  readonly shadow: Uint8Array;
  /** Next free word of the bump allocator. */
  top = WORDS_PER_LINE;
  readonly blocks = new Map<number, PoolBlock>();

  constructor(
    readonly size: number,
    words?: Int32Array,
  ) {
    this.words = words ?? createBuffer(size);
    this.shadow = new Uint8Array(size);
  }

  /** Back to power-on state; only the used part is cleared, so a reset costs what the run used. */
  reset(): void {
    this.words.fill(0, 0, this.top);
    this.shadow.fill(Shadow.Unallocated, 0, this.top);
    this.top = WORDS_PER_LINE;
    if (this.blocks.size !== 0) this.blocks.clear();
  }

  alloc(words: number, tag: string, lineAligned = false): number {
    const align = lineAligned ? WORDS_PER_LINE : 4;
    const addr = Math.ceil(this.top / align) * align;
    const n = Math.max(1, words);
    if (addr + n > this.size) {
      throw new OutOfMachineMemory(
        `machine memory exhausted: ${n} words for '${tag}' do not fit in ${this.size} words (raise the rig's memoryWords)`,
      );
    }
    this.top = addr + n;
    this.shadow.fill(Shadow.Allocated, addr, addr + n);
    this.blocks.set(addr, { addr, words: n, tag, freed: false });
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
    for (const b of this.blocks.values()) if (addr >= b.addr && addr < b.addr + b.words) return b;
    return undefined;
  }
}

/** Addresses are shown as byte addresses in the style of a kernel pointer. */
export function formatAddress(wordAddr: number): string {
  return `0x${(wordAddr * 4).toString(16).padStart(8, '0')}`;
}
