/**
 * Interlocked singly linked lists (SLIST_HEADER, SLIST_ENTRY): InitializeSListHead,
 * InterlockedPushEntrySList, InterlockedPopEntrySList, InterlockedFlushSList, ExQueryDepthSList
 * (WDK "Singly and Doubly Linked Lists", wdm.h).
 *
 * An SLIST_ENTRY is one word, Next (a pointer, stored ×4 as LIST_ENTRY links are), at the start of
 * the caller's entry. The SLIST_HEADER is four words: Next (the first entry), Depth, Sequence and
 * one reserved — on Windows one 64-bit (x86) or 128-bit (x64) quantity that every operation
 * replaces with a single compare-exchange. Here that compare-exchange is one scheduling point that
 * compares and replaces the three words at once (free-run makes it atomic across CPU workers with
 * the dispatcher lock). Every change advances Sequence, so a pop that read Next = A, with A->Next
 * = B, cannot install B after other CPUs popped A and B and pushed A back: the header still points
 * at A, but its Sequence moved, and the pop starts over. A hand-made stack that compare-exchanges
 * only its top pointer installs B there (slist/naive-aba).
 *
 * A pop reads the first entry's Next outside the compare-exchange, as Windows does: an entry freed
 * by another CPU in that window is read after its free (Windows recovers from that fault and
 * retries; the box's special pool reports it on a checked build).
 *
 * Any IRQL, with the header and entries in non-paged memory; the lists need no lock.
 */
import { ScenarioError } from '../machine/bugcheck.ts';
import { OP_READ, OP_RMW, OP_WRITE, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';
import { deref, ptr } from './list.ts';

export type PSLIST_HEADER = number;
export type PSLIST_ENTRY = number;

/** SLIST_HEADER layout (words). */
export const SLIST_NEXT = 0;
export const SLIST_DEPTH = 1;
export const SLIST_SEQUENCE = 2;
export const SLIST_HEADER_WORDS = 4;

/** The header as one value: what a compare-exchange compares. */
interface HeaderValue {
  next: number;
  depth: number;
  sequence: number;
}

/** One atomic read of the whole header (the 64/128-bit load). */
function readHeader(k: Kernel, head: number, into: HeaderValue): void {
  const m = k.m;
  m.lockDispatcher();
  try {
    into.next = m.read(head + SLIST_NEXT);
    into.depth = m.read(head + SLIST_DEPTH);
    into.sequence = m.read(head + SLIST_SEQUENCE);
  } finally {
    m.unlockDispatcher();
  }
}

/** The header compare-exchange: replaces all of it if it still equals `seen`. */
function exchangeHeader(k: Kernel, head: number, seen: HeaderValue, next: number, depth: number): boolean {
  const m = k.m;
  m.lockDispatcher();
  try {
    if (m.read(head + SLIST_NEXT) !== seen.next || m.read(head + SLIST_DEPTH) !== seen.depth || m.read(head + SLIST_SEQUENCE) !== seen.sequence) {
      return false;
    }
    m.write(head + SLIST_NEXT, next);
    m.write(head + SLIST_DEPTH, depth & 0xffff);
    m.write(head + SLIST_SEQUENCE, (seen.sequence + 1) | 0);
    return true;
  } finally {
    m.unlockDispatcher();
  }
}

export const slistApi = {
  /**
   * Any IRQL; the caller owns the header. Lays out an empty SLIST_HEADER (4 words, 16-byte
   * aligned in Windows) at `head`, or allocates one. Returns its address.
   */
  InitializeSListHead(this: Kernel, head?: PSLIST_HEADER): PSLIST_HEADER {
    const m = this.m;
    const a = head ?? m.memory.alloc(SLIST_HEADER_WORDS, 'SLIST_HEADER');
    for (let i = 0; i < SLIST_HEADER_WORDS; i++) m.words[a + i] = 0;
    return a;
  },

  /**
   * Any IRQL. Makes `entry` the first entry, atomically against every other push, pop and flush of
   * the list; returns the entry that was first before (0 when the list was empty).
   */
  *InterlockedPushEntrySList(this: Kernel, head: PSLIST_HEADER, entry: PSLIST_ENTRY): Routine<PSLIST_ENTRY> {
    const m = this.m;
    if (!Number.isInteger(entry) || entry <= 0) throw new ScenarioError(`InterlockedPushEntrySList: entry must be an SLIST_ENTRY address (got ${entry})`);
    const seen: HeaderValue = { next: 0, depth: 0, sequence: 0 };
    for (;;) {
      yield m.at(OP_READ, head);
      readHeader(this, head, seen);
      yield m.at(OP_WRITE, entry);
      m.write(entry, seen.next);
      yield m.at(OP_RMW, head);
      if (exchangeHeader(this, head, seen, ptr(entry), seen.depth + 1)) return deref(seen.next);
    }
  },

  /**
   * Any IRQL. Removes and returns the first entry (0 when the list is empty), atomically against
   * every other push, pop and flush: an entry is returned by exactly one pop.
   */
  *InterlockedPopEntrySList(this: Kernel, head: PSLIST_HEADER): Routine<PSLIST_ENTRY> {
    const m = this.m;
    const seen: HeaderValue = { next: 0, depth: 0, sequence: 0 };
    for (;;) {
      yield m.at(OP_READ, head);
      readHeader(this, head, seen);
      if (seen.next === 0) return 0;
      const first = deref(seen.next);
      yield m.at(OP_READ, first);
      const after = m.read(first);
      yield m.at(OP_RMW, head);
      if (exchangeHeader(this, head, seen, after, seen.depth - 1)) return first;
    }
  },

  /** Any IRQL. Empties the list in one atomic step; returns the entries that were on it, as a chain from its first entry (0 when empty). */
  *InterlockedFlushSList(this: Kernel, head: PSLIST_HEADER): Routine<PSLIST_ENTRY> {
    const m = this.m;
    const seen: HeaderValue = { next: 0, depth: 0, sequence: 0 };
    for (;;) {
      yield m.at(OP_RMW, head);
      readHeader(this, head, seen);
      if (seen.next === 0) return 0;
      if (exchangeHeader(this, head, seen, 0, 0)) return deref(seen.next);
    }
  },

  /**
   * Any IRQL. The number of entries on the list (the header's Depth): a plain read with no
   * scheduling point, usable from invariants; stale as soon as another CPU pushes or pops.
   */
  ExQueryDepthSList(this: Kernel, head: PSLIST_HEADER): number {
    return this.m.words[head + SLIST_DEPTH]!;
  },
};

export type SListApi = typeof slistApi;
