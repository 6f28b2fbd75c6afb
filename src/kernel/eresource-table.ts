/**
 * Where an ERESOURCE's bookkeeping lives: its owner table (thread → recursion
 * count, in insertion order), the exclusive flag and owner, the hand-off flag
 * and the queued readers, in shared kernel memory keyed by the resource's
 * address, so that every processor sees one copy. This is plumbing only; the
 * NT rules that use it are in eresource.ts. Changed only under the dispatcher lock.
 */
import { ScenarioError } from '../machine/bugcheck.ts';
import type { Thread } from '../machine/cpu.ts';
import type { SharedTable } from '../machine/shared-state.ts';
import { threadAt } from './dispatcher-object.ts';
import type { Kernel } from './kernel.ts';
import { MAX_RESOURCE_ENTRIES, MAX_SHARED_RESOURCES } from './shared-regions.ts';

/** Record words. */
const R_ADDR = 0;
const R_EXCLUSIVE = 1;
const R_EXCLUSIVE_OWNER = 2;
/** Exclusive ownership handed to a waiter that has not run yet. */
const R_HANDOFF = 3;
const R_EXCLUSIVE_WAITERS = 4;
/** Entry words: an owner (with its recursion count) or a reader queued on the semaphore. */
const E_RESOURCE = 0;
const E_THREAD = 1;
const E_KIND = 2;
const E_COUNT = 3;
/** Insertion order: owners are listed, and queued readers admitted, in this order. */
const E_SEQUENCE = 4;
const OWNER_ENTRY = 1;
const WAITER_ENTRY = 2;

/** One ERESOURCE's bookkeeping, as a view over its record and entries. */
export class Resource {
  private readonly entriesTable: SharedTable;
  constructor(
    readonly k: Kernel,
    readonly addr: number,
    private readonly w: Int32Array<ArrayBufferLike>,
    private readonly rec: number,
  ) {
    this.entriesTable = k.shared.resourceEntries;
  }

  get exclusive(): boolean {
    return this.w[this.rec + R_EXCLUSIVE] === 1;
  }
  set exclusive(v: boolean) {
    this.w[this.rec + R_EXCLUSIVE] = v ? 1 : 0;
  }
  get exclusiveOwner(): Thread | null {
    return threadAt(this.k, this.w[this.rec + R_EXCLUSIVE_OWNER]!);
  }
  set exclusiveOwner(t: Thread | null) {
    this.w[this.rec + R_EXCLUSIVE_OWNER] = t?.kthread ?? 0;
  }
  get handoff(): boolean {
    return this.w[this.rec + R_HANDOFF] === 1;
  }
  set handoff(v: boolean) {
    this.w[this.rec + R_HANDOFF] = v ? 1 : 0;
  }
  get exclusiveWaiters(): number {
    return this.w[this.rec + R_EXCLUSIVE_WAITERS]!;
  }
  set exclusiveWaiters(n: number) {
    this.w[this.rec + R_EXCLUSIVE_WAITERS] = n;
  }

  /** How many times `t` owns the resource (0: not at all). */
  ownerCount(t: Thread): number {
    const e = this.find(OWNER_ENTRY, t);
    return e < 0 ? 0 : this.w[e + E_COUNT]!;
  }

  /** Sets `t`'s ownership count; a new owner goes last, 0 removes it. */
  setOwner(t: Thread, count: number): void {
    const e = this.find(OWNER_ENTRY, t);
    if (e >= 0) {
      if (count === 0) this.w.fill(0, e, e + this.entriesTable.entryWords);
      else this.w[e + E_COUNT] = count;
    } else if (count !== 0) this.add(OWNER_ENTRY, t, count);
  }

  /** The owners, oldest first. */
  owners(): { thread: Thread; count: number }[] {
    return this.entries(OWNER_ENTRY).map((e) => ({ thread: threadAt(this.k, this.w[e + E_THREAD]!)!, count: this.w[e + E_COUNT]! }));
  }

  get ownerTotal(): number {
    return this.count(OWNER_ENTRY);
  }

  get sharedWaiterTotal(): number {
    return this.count(WAITER_ENTRY);
  }

  /** The owner listed first (the oldest), or null. */
  firstOwner(): Thread | null {
    const w = this.w;
    const t = this.entriesTable;
    const end = t.end(w);
    let best = -1;
    for (let e = t.base; e < end; e += t.entryWords) {
      if (w[e + E_RESOURCE] === this.addr && w[e + E_KIND] === OWNER_ENTRY && (best < 0 || w[e + E_SEQUENCE]! < w[best + E_SEQUENCE]!)) best = e;
    }
    return best < 0 ? null : threadAt(this.k, w[best + E_THREAD]!);
  }

  /** Readers queued on the semaphore, in the order they queued. */
  sharedWaiters(): Thread[] {
    return this.entries(WAITER_ENTRY).map((e) => threadAt(this.k, this.w[e + E_THREAD]!)!);
  }

  pushSharedWaiter(t: Thread): void {
    this.add(WAITER_ENTRY, t, 1);
  }

  clearSharedWaiters(): void {
    for (const e of this.entries(WAITER_ENTRY)) this.w.fill(0, e, e + this.entriesTable.entryWords);
  }

  /** Entries of one kind, in insertion order. */
  private entries(kind: number): number[] {
    const w = this.w;
    const t = this.entriesTable;
    const out: number[] = [];
    const end = t.end(w);
    for (let e = t.base; e < end; e += t.entryWords) {
      if (w[e + E_RESOURCE] === this.addr && w[e + E_KIND] === kind) out.push(e);
    }
    if (out.length > 1) out.sort((a, b) => w[a + E_SEQUENCE]! - w[b + E_SEQUENCE]!);
    return out;
  }

  /** How many entries of one kind (no allocation: this runs at every acquire and release). */
  private count(kind: number): number {
    const w = this.w;
    const t = this.entriesTable;
    const end = t.end(w);
    let n = 0;
    for (let e = t.base; e < end; e += t.entryWords) {
      if (w[e + E_RESOURCE] === this.addr && w[e + E_KIND] === kind) n++;
    }
    return n;
  }

  private find(kind: number, t: Thread): number {
    const w = this.w;
    const table = this.entriesTable;
    const end = table.end(w);
    for (let e = table.base; e < end; e += table.entryWords) {
      if (w[e + E_RESOURCE] === this.addr && w[e + E_KIND] === kind && w[e + E_THREAD] === t.kthread) return e;
    }
    return -1;
  }

  private add(kind: number, t: Thread, count: number): void {
    const w = this.w;
    const table = this.entriesTable;
    const end = table.end(w);
    let e = -1;
    for (let x = table.base; x < end; x += table.entryWords) {
      if (w[x + E_RESOURCE] === 0) {
        e = x;
        break;
      }
    }
    if (e < 0) e = table.append(w);
    if (e < 0) {
      throw new ScenarioError(`ERESOURCE ${this.k.m.nameOf(this.addr)}: more than ${MAX_RESOURCE_ENTRIES} owners and queued readers of ERESOURCEs at once`);
    }
    w[e + E_RESOURCE] = this.addr;
    w[e + E_THREAD] = t.kthread;
    w[e + E_KIND] = kind;
    w[e + E_COUNT] = count;
    w[e + E_SEQUENCE] = ++w[this.k.shared.resourceSequence]!;
  }
}

/** The record of a resource: found, or (create) made at its first use; -1 when absent. */
function recordOf(k: Kernel, w: Int32Array<ArrayBufferLike>, res: number, create: boolean): number {
  const t = k.shared.resources;
  const end = t.end(w);
  let free = -1;
  for (let r = t.base; r < end; r += t.entryWords) {
    if (w[r + R_ADDR] === res) return r;
    if (free < 0 && w[r + R_ADDR] === 0) free = r;
  }
  if (!create) return -1;
  if (free < 0) free = t.append(w);
  if (free < 0) throw new ScenarioError(`ERESOURCE ${k.m.nameOf(res)}: more than ${MAX_SHARED_RESOURCES} ERESOURCEs in use at once`);
  w.fill(0, free, free + t.entryWords);
  w[free + R_ADDR] = res;
  return free;
}

/** The bookkeeping of a resource (made at its first use). Dispatcher lock held. */
export function resourceView(k: Kernel, res: number): Resource {
  const w = k.m.kernelShared.use();
  return new Resource(k, res, w, recordOf(k, w, res, true));
}

/** Forgets a resource's bookkeeping (deleted, or initialized again). Dispatcher lock held. */
export function forgetResource(k: Kernel, res: number): void {
  // Read without marking the memory used: a record exists only if an acquire marked it.
  const w = k.m.kernelShared.words;
  const rec = recordOf(k, w, res, false);
  if (rec < 0) return;
  w.fill(0, rec, rec + k.shared.resources.entryWords);
  const t = k.shared.resourceEntries;
  const end = t.end(w);
  for (let e = t.base; e < end; e += t.entryWords) {
    if (w[e + E_RESOURCE] === res) w.fill(0, e, e + t.entryWords);
  }
}
