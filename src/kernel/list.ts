/**
 * Doubly linked lists (LIST_ENTRY) in machine memory, as wdm.h defines them
 * since Windows 8: every insert and unlink first checks the links it is about
 * to rewrite and fast-fails with KERNEL_SECURITY_CHECK_FAILURE (0x139,
 * parameter 1 = 3) when they are inconsistent — in free and checked builds
 * alike. A LIST_ENTRY is two words, Flink then Blink; pointers are stored as
 * byte addresses (word address × 4), as a kernel pointer would be.
 *
 * Every read or write of a link is a scheduling point: the lists are shared
 * state, and the box must be able to interleave an unsynchronized user between
 * any two of them (that is how a missing lock turns into a corrupt list).
 */
import { BugCheck } from '../machine/bugcheck.ts';
import { OP_READ, OP_WRITE, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';

/** LIST_ENTRY layout (words). */
export const LIST_FLINK = 0;
export const LIST_BLINK = 1;
export const LIST_ENTRY_WORDS = 2;

/** FAST_FAIL_CORRUPT_LIST_ENTRY: parameter 1 of 0x139. */
export const FAST_FAIL_CORRUPT_LIST_ENTRY = 3;

export type PLIST_ENTRY = number;

/** Word address → stored pointer, and back. */
export const ptr = (a: number): number => (a * 4) | 0;
export const deref = (p: number): number => p >>> 2;

function corrupt(k: Kernel, entry: number, what: string): BugCheck {
  return new BugCheck(0x139, FAST_FAIL_CORRUPT_LIST_ENTRY, 0, 0, 0, `LIST_ENTRY corruption at ${k.m.nameOf(entry)}: ${what}`);
}

export const listApi = {
  /**
   * Any IRQL; the caller owns the entry. Makes an empty list (Flink = Blink = itself).
   * Without an address, allocates the LIST_ENTRY and returns it.
   */
  InitializeListHead(this: Kernel, head?: PLIST_ENTRY): PLIST_ENTRY {
    const m = this.m;
    const h = head ?? m.memory.alloc(LIST_ENTRY_WORDS, 'LIST_ENTRY');
    m.write(h + LIST_FLINK, ptr(h));
    m.write(h + LIST_BLINK, ptr(h));
    return h;
  },

  /** One read of ListHead->Flink: TRUE when the list is empty. The caller synchronizes. */
  *IsListEmpty(this: Kernel, head: PLIST_ENTRY): Routine<boolean> {
    const m = this.m;
    yield m.at(OP_READ, head + LIST_FLINK);
    return deref(m.read(head + LIST_FLINK)) === head;
  },

  /** Inserts `entry` right after the head. Fast-fails (0x139/3) if ListHead->Flink->Blink != ListHead. */
  *InsertHeadList(this: Kernel, head: PLIST_ENTRY, entry: PLIST_ENTRY): Routine<void> {
    const m = this.m;
    yield m.at(OP_READ, head + LIST_FLINK);
    const next = deref(m.read(head + LIST_FLINK));
    yield m.at(OP_READ, next + LIST_BLINK);
    if (deref(m.read(next + LIST_BLINK)) !== head) throw corrupt(this, head, 'ListHead->Flink->Blink != ListHead (InsertHeadList)');
    yield m.at(OP_WRITE, entry + LIST_FLINK);
    m.write(entry + LIST_FLINK, ptr(next));
    yield m.at(OP_WRITE, entry + LIST_BLINK);
    m.write(entry + LIST_BLINK, ptr(head));
    yield m.at(OP_WRITE, next + LIST_BLINK);
    m.write(next + LIST_BLINK, ptr(entry));
    yield m.at(OP_WRITE, head + LIST_FLINK);
    m.write(head + LIST_FLINK, ptr(entry));
  },

  /** Inserts `entry` before the head (at the tail). Fast-fails (0x139/3) if ListHead->Blink->Flink != ListHead. */
  *InsertTailList(this: Kernel, head: PLIST_ENTRY, entry: PLIST_ENTRY): Routine<void> {
    const m = this.m;
    yield m.at(OP_READ, head + LIST_BLINK);
    const prev = deref(m.read(head + LIST_BLINK));
    yield m.at(OP_READ, prev + LIST_FLINK);
    if (deref(m.read(prev + LIST_FLINK)) !== head) throw corrupt(this, head, 'ListHead->Blink->Flink != ListHead (InsertTailList)');
    yield m.at(OP_WRITE, entry + LIST_FLINK);
    m.write(entry + LIST_FLINK, ptr(head));
    yield m.at(OP_WRITE, entry + LIST_BLINK);
    m.write(entry + LIST_BLINK, ptr(prev));
    yield m.at(OP_WRITE, prev + LIST_FLINK);
    m.write(prev + LIST_FLINK, ptr(entry));
    yield m.at(OP_WRITE, head + LIST_BLINK);
    m.write(head + LIST_BLINK, ptr(entry));
  },

  /**
   * Unlinks `entry`. Fast-fails (0x139/3) unless Entry->Flink->Blink == Entry and
   * Entry->Blink->Flink == Entry (a double unlink, or an entry that was never
   * linked). Returns TRUE when the list is empty afterwards. The entry's own
   * links are left as they were (stale).
   */
  *RemoveEntryList(this: Kernel, entry: PLIST_ENTRY): Routine<boolean> {
    const m = this.m;
    yield m.at(OP_READ, entry + LIST_FLINK);
    const next = deref(m.read(entry + LIST_FLINK));
    yield m.at(OP_READ, entry + LIST_BLINK);
    const prev = deref(m.read(entry + LIST_BLINK));
    yield m.at(OP_READ, next + LIST_BLINK);
    if (deref(m.read(next + LIST_BLINK)) !== entry) throw corrupt(this, entry, 'Entry->Flink->Blink != Entry (RemoveEntryList)');
    yield m.at(OP_READ, prev + LIST_FLINK);
    if (deref(m.read(prev + LIST_FLINK)) !== entry) throw corrupt(this, entry, 'Entry->Blink->Flink != Entry (RemoveEntryList)');
    yield m.at(OP_WRITE, prev + LIST_FLINK);
    m.write(prev + LIST_FLINK, ptr(next));
    yield m.at(OP_WRITE, next + LIST_BLINK);
    m.write(next + LIST_BLINK, ptr(prev));
    return next === prev;
  },

  /**
   * Unlinks and returns the first entry. On an empty list it returns the head
   * itself (as Windows does): check IsListEmpty first.
   */
  *RemoveHeadList(this: Kernel, head: PLIST_ENTRY): Routine<PLIST_ENTRY> {
    const m = this.m;
    yield m.at(OP_READ, head + LIST_FLINK);
    const entry = deref(m.read(head + LIST_FLINK));
    yield m.at(OP_READ, entry + LIST_FLINK);
    const next = deref(m.read(entry + LIST_FLINK));
    yield m.at(OP_READ, entry + LIST_BLINK);
    if (deref(m.read(entry + LIST_BLINK)) !== head) throw corrupt(this, entry, 'Entry->Blink != ListHead (RemoveHeadList)');
    yield m.at(OP_READ, next + LIST_BLINK);
    if (deref(m.read(next + LIST_BLINK)) !== entry) throw corrupt(this, entry, 'Entry->Flink->Blink != Entry (RemoveHeadList)');
    yield m.at(OP_WRITE, head + LIST_FLINK);
    m.write(head + LIST_FLINK, ptr(next));
    yield m.at(OP_WRITE, next + LIST_BLINK);
    m.write(next + LIST_BLINK, ptr(head));
    return entry;
  },

  /** Unlinks and returns the last entry (the head itself on an empty list). */
  *RemoveTailList(this: Kernel, head: PLIST_ENTRY): Routine<PLIST_ENTRY> {
    const m = this.m;
    yield m.at(OP_READ, head + LIST_BLINK);
    const entry = deref(m.read(head + LIST_BLINK));
    yield m.at(OP_READ, entry + LIST_BLINK);
    const prev = deref(m.read(entry + LIST_BLINK));
    yield m.at(OP_READ, entry + LIST_FLINK);
    if (deref(m.read(entry + LIST_FLINK)) !== head) throw corrupt(this, entry, 'Entry->Flink != ListHead (RemoveTailList)');
    yield m.at(OP_READ, prev + LIST_FLINK);
    if (deref(m.read(prev + LIST_FLINK)) !== entry) throw corrupt(this, entry, 'Entry->Blink->Flink != Entry (RemoveTailList)');
    yield m.at(OP_WRITE, head + LIST_BLINK);
    m.write(head + LIST_BLINK, ptr(prev));
    yield m.at(OP_WRITE, prev + LIST_FLINK);
    m.write(prev + LIST_FLINK, ptr(head));
    return entry;
  },

  /** Entries of a list, head excluded, read without scheduling points: for invariants and tests. */
  ListEntries(this: Kernel, head: PLIST_ENTRY, limit = 1000): PLIST_ENTRY[] {
    const out: number[] = [];
    let e = deref(this.peek(head + LIST_FLINK));
    while (e !== head && out.length < limit) {
      out.push(e);
      e = deref(this.peek(e + LIST_FLINK));
    }
    return out;
  },
};

export type ListApi = typeof listApi;
