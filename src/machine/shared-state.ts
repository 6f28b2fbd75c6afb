/**
 * Kernel state that every processor must see, and the one interface through
 * which the kernel reaches it. The kernel never asks which engine drives it:
 *
 *  - the controlled engine runs every CPU in one thread, so a change made in
 *    one step is seen by all and the dispatcher lock has nothing to do;
 *  - free-run gives each CPU a worker of its own: shared kernel memory is then
 *    mapped onto memory every worker maps (SharedKernelMemory.attach), the
 *    dispatcher lock is a real lock, and a thread belongs to the worker that runs it.
 *
 * Both implement SharedKernelState (Machine; free-run's machine overrides it).
 */
import type { Thread } from './cpu.ts';

/** Size of the kernel's shared memory (words). */
export const KERNEL_SHARED_WORDS = 8192;

/** What the kernel needs of the machine to keep state other processors see. */
export interface SharedKernelState {
  /** Kernel-global words every processor shares, carved into named regions. */
  readonly kernelShared: SharedKernelMemory;
  /**
   * The dispatcher lock: a kernel state change that spans several words (a wait list, an owner
   * table) is made under it. Held only within a step (never across a yield); nests.
   */
  lockDispatcher(): void;
  unlockDispatcher(): void;
  /** Whether this processor may change `t`'s own fields (false for a thread another CPU worker runs). */
  runsThread(t: Thread): boolean;
  /** Makes a waiting thread ready again, on whichever processor runs it. */
  readyThread(t: Thread, status: number): void;
  /** Asks the processor that runs `t` to look at it again (an APC was queued to it). */
  kickThread(t: Thread): void;
}

/**
 * A table in shared kernel memory: entries of `entryWords` filled from the
 * start, and a word counting the entries in use (scans stop there; clearing
 * clears only those). Entries are changed under the dispatcher lock.
 */
export class SharedTable {
  constructor(
    readonly name: string,
    /** Offset of the word counting entries in use. */
    readonly countAt: number,
    /** Offset of the first entry. */
    readonly base: number,
    readonly entryWords: number,
    readonly capacity: number,
  ) {}

  /** Offset of the entry after the last one in use. */
  end(w: Int32Array<ArrayBufferLike>): number {
    return this.base + w[this.countAt]! * this.entryWords;
  }

  /** A new zeroed entry after the last one in use; -1 when the table is full. */
  append(w: Int32Array<ArrayBufferLike>): number {
    const used = w[this.countAt]!;
    if (used >= this.capacity) return -1;
    const e = this.base + used * this.entryWords;
    w.fill(0, e, e + this.entryWords);
    // Counted once zeroed: a reader without the dispatcher lock sees an empty entry, never a stale one.
    w[this.countAt] = used + 1;
    return e;
  }
}

/**
 * The kernel's shared memory. Regions are allocated by name, in the order a
 * Kernel asks for them (the same on every processor, since each builds its
 * Kernel alike), so no slot is numbered by hand. A run's changes are cleared
 * before the next run; only a run that changed something pays for it.
 */
export class SharedKernelMemory {
  private mem: Int32Array<ArrayBufferLike>;
  private top = 0;
  private readonly byName = new Map<string, number | SharedTable>();
  private readonly tables: SharedTable[] = [];
  private readonly counters: number[] = [];
  private used = false;

  constructor(size = KERNEL_SHARED_WORDS) {
    this.mem = new Int32Array(size);
  }

  /** The words, to read. */
  get words(): Int32Array<ArrayBufferLike> {
    return this.mem;
  }

  /** The words, to change: the next clear() has work to do. */
  use(): Int32Array<ArrayBufferLike> {
    this.used = true;
    return this.mem;
  }

  /** Maps the memory onto `words` (free-run: memory every CPU worker maps). Regions keep their offsets. */
  attach(words: Int32Array<ArrayBufferLike>): void {
    if (words.length < this.top) throw new Error(`kernel shared memory: ${words.length} words given, the regions need ${this.top}`);
    this.mem = words;
  }

  /** One word, zero at the start of every run. Asking again by the same name gives the same word. */
  counter(name: string): number {
    const known = this.byName.get(name);
    if (typeof known === 'number') return known;
    if (known !== undefined) throw new Error(`kernel shared memory: '${name}' is a table`);
    const at = this.reserve(name, 1);
    this.counters.push(at);
    this.byName.set(name, at);
    return at;
  }

  /** A table of up to `capacity` entries of `entryWords`, empty at the start of every run. */
  table(name: string, entryWords: number, capacity: number): SharedTable {
    const known = this.byName.get(name);
    if (known instanceof SharedTable && known.entryWords === entryWords && known.capacity === capacity) return known;
    if (known !== undefined) throw new Error(`kernel shared memory: '${name}' is already allocated with another shape`);
    const countAt = this.reserve(name, 1 + entryWords * capacity);
    const t = new SharedTable(name, countAt, countAt + 1, entryWords, capacity);
    this.tables.push(t);
    this.byName.set(name, t);
    return t;
  }

  /**
   * Clears what the last run changed: the entries in use, then the counts and counters (free-run:
   * several CPU workers may clear at once, and each clears the same words).
   */
  clear(): void {
    if (!this.used) return;
    this.used = false;
    const w = this.mem;
    for (const t of this.tables) {
      if (w[t.countAt] === 0) continue;
      w.fill(0, t.base, t.end(w));
      w[t.countAt] = 0;
    }
    for (const at of this.counters) w[at] = 0;
  }

  private reserve(name: string, words: number): number {
    const at = this.top;
    if (at + words > this.mem.length) throw new Error(`kernel shared memory: no room for '${name}' (${words} words; ${this.mem.length - at} left)`);
    this.top = at + words;
    return at;
  }
}
