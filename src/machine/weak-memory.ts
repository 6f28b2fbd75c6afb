/**
 * The memory model of a rig's architecture, for the accesses a scenario makes through Windows'
 * ordering APIs (ReadNoFence, WriteRelease, ReadAcquire, volatile accessors, KeMemoryBarrier …).
 *
 * Everything else — every access a kernel routine makes, every Interlocked* operation — is
 * sequentially consistent and a full barrier for its CPU: before it touches memory, the CPU's
 * buffered stores become visible and its later reads see at least everything visible then. That
 * is stronger than Windows on ARM64 for some routines (a spin-lock release is only a release
 * there), so a reordering across a kernel routine is never explored: such a bug is missed, never
 * reported on a correct driver. Context transitions (a context ends, a thread is created, switches out
 * or in, a DPC or ISR is delivered) are full barriers too (Machine calls switchContext).
 *
 * x64 — x86-TSO (Owens, Sarkar, Sewell, TPHOLs 2009). Each CPU has a FIFO store buffer of at most
 * STORE_BUFFER_DEPTH stores. A weak store is buffered when the engine asks (VARIANT_BUFFER) or when
 * the buffer already holds one (a store never passes an older one); only the oldest entry may
 * become visible. A read sees the CPU's own newest buffered store to the address (forwarding),
 * else memory: reads are never stale. Acquire/release are plain accesses (TSO orders them
 * already); a 'full' fence drains the buffer, 'store' and 'load' do nothing (SFENCE/LFENCE do not
 * order ordinary stores against loads). `active` is true only while some store is buffered, so a
 * run that never buffers costs the machine's hot path nothing.
 *
 * arm64 — ARMv8, other-multi-copy-atomic (Pulte et al., POPL 2018), with the views of
 * Promising-ARM (Pulte et al., PLDI 2019). Memory is an append-only sequence of visible writes,
 * each with a timestamp (1, 2, 3 …; what memory held when the run started — setup's writes, the
 * zeros — is timestamp 0). Each address written during the run keeps its history (a linked list
 * through the global log). Each CPU has views: coh[addr] (newest timestamp it read or wrote
 * there), vrOld (newest timestamp its reads saw), vwOld (newest timestamp of its visible writes)
 * and vrNew (lower bound for its later reads, raised by barriers, acquires and SC accesses).
 * A read returns its own newest buffered store to the address, else one of the writes in the
 * address's history from the newest one at or below max(vrNew, coh[addr], dependency view) up
 * to the newest: variant 0 is the newest, k the k-th older (at most MAX_STALE_READS), never older
 * than a write visible for MAX_STALE_AGE steps. The store buffer is not FIFO: an entry may become
 * visible once no older entry has its address
 * (coherence), and a release only once it is the oldest; an acquire read first makes the CPU's
 * buffered releases visible (LDAR is not reordered before an earlier STLR: RCsc). The one
 * dependency kept is the address dependency: a read through a pointer the CPU loaded among its
 * last DEPENDENCY_READS reads (the address lies in the pool block the loaded value points into)
 * sees at least what that load saw. A coincidental match only orders more: never a false report.
 * Load→store reordering (LB, S) is not modelled: a routine cannot run past a read before its
 * value exists. Fences: 'full' drains and raises vrNew to vrOld and vwOld, 'store' drains,
 * 'load' raises vrNew to vrOld.
 *
 * The model starts recording at start() (Machine calls it at the first step of a run): setup's
 * writes are the memory every CPU sees from the beginning.
 *
 * For the trace, `events` (null unless a trace is recorded) collects what the weak operations of
 * the step just performed did: WeakEvents says which fields.
 */
import type { Arch } from './rig.ts';

/** Not an ordering-API access: a kernel-internal or interlocked access (sequentially consistent). */
export const ORDER_SC = 0;
/** ReadNoFence / WriteNoFence / ReadRaw / WriteRaw, and volatile under /volatile:iso. */
export const ORDER_PLAIN = 1;
/** ReadAcquire, and a volatile read under /volatile:ms. */
export const ORDER_ACQUIRE = 2;
/** WriteRelease, and a volatile write under /volatile:ms. */
export const ORDER_RELEASE = 3;

export type MemoryOrder = typeof ORDER_SC | typeof ORDER_PLAIN | typeof ORDER_ACQUIRE | typeof ORDER_RELEASE;
/** The order bits of an announced access (ExecContext.order). */
export const ORDER_MASK = 3;
/** Set with an order by the fence search: a full barrier right before the access. */
export const ORDER_FENCE_BEFORE = 4;

/** KeMemoryBarrier / MemoryBarrier: 'full' (MFENCE, DMB ISH); 'store' (DMB ISHST); 'load' (DMB ISHLD). */
export type FenceKind = 'full' | 'store' | 'load';

/** How the engine asks for the next ordering-API access of the stepping CPU to be performed. */
export const VARIANT_DEFAULT = 0;
/** A store stays in the CPU's store buffer instead of becoming visible at once. */
export const VARIANT_BUFFER = -1;
/* A positive variant k asks a read to return the k-th older value it may still see (ARM64). */

/** Stores one CPU may hold in its buffer; a further store makes the oldest visible first. */
export const STORE_BUFFER_DEPTH = 4;
/**
 * Steps of the machine a store may stay buffered: a real store buffer drains within a few hundred
 * cycles, and without a bound a strategy that never picks the flush would keep a store from a
 * poll loop forever — a hang no machine shows. Far above what a litmus shape or a lost handshake
 * needs (a few steps).
 */
export const MAX_STORE_AGE = 64;
/**
 * Steps after which a visible write is seen by every CPU's reads (ARM64): coherence reaches every
 * core within a bounded time. Without a bound a strategy could offer a poll loop the same old value
 * on every turn (a loop with other accesses in between, which the engine's repeated-poll rule does
 * not cover) and keep it spinning into a hang no machine shows. Same bound as MAX_STORE_AGE.
 */
export const MAX_STALE_AGE = 64;
/** Older values a read is offered at most (ARM64): the exploration stays bounded. */
export const MAX_STALE_READS = 3;
/** Reads per CPU remembered for the address dependency (ARM64). */
export const DEPENDENCY_READS = 8;

/** What the model needs of the machine: the step being performed, and the pool's blocks (address dependency). */
export interface WeakHost {
  readonly step: number;
  readonly memory: { blockAt(addr: number): { addr: number; words: number } | undefined };
}

/** A store of an ordering-API write: who stored what where, at which step. */
export interface StoreEvent {
  cpu: number;
  addr: number;
  value: number;
  /** The step that performed the store (Machine.step then). */
  storedAt: number;
  release: boolean;
}

/**
 * A store that became visible to every other CPU out of the plain order: a buffered store (made
 * visible by a flush choice, a fence, an SC access, a context transition, a full buffer or an
 * acquire), or — arm64 — a store that became visible at once while older stores of its CPU were
 * still buffered.
 */
export interface VisibleEvent extends StoreEvent {
  /** The step during which it became visible (storedAt when it never waited in the buffer). */
  visibleAt: number;
  /** Older stores of the same CPU still buffered when it became visible: the stores it overtook (arm64; never on x64, FIFO). */
  overtook: StoreEvent[];
}

/** What an ordering-API read returned. */
export interface ReadEvent {
  cpu: number;
  addr: number;
  value: number;
  /** The value came from the CPU's own store buffer (not yet visible to the others). */
  forwarded: boolean;
  /**
   * The store that wrote the value: its step and CPU. Null when no store the model recorded wrote
   * it — the value memory held when the run started (setup), one a kernel path wrote directly, or
   * any value from memory on x64 (TSO keeps no history: its reads are never stale).
   */
  from: { step: number; cpu: number } | null;
  /** Set when the read returned an older value than the newest visible one (ARM64): the newest, and which store wrote it. */
  stale: { newest: number; newestStep: number; newestCpu: number } | null;
}

/**
 * What the weak operations did since the last clear() (the trace recorder clears it before each
 * step or flush choice and reads it after). Filled only while WeakMemory.events is set.
 */
export class WeakEvents {
  /** The ordering-API store the step performed was held in the CPU's buffer. */
  buffered: StoreEvent | null = null;
  /** Buffered stores that became visible, in the order they did (a flush choice: exactly one). */
  readonly visible: VisibleEvent[] = [];
  /** The ordering-API read the step performed. */
  read: ReadEvent | null = null;

  clear(): void {
    this.buffered = null;
    this.visible.length = 0;
    this.read = null;
  }
}

const D = STORE_BUFFER_DEPTH;
const R = DEPENDENCY_READS;

export class WeakMemory {
  /**
   * True when an SC access must call beforeSc/afterScWrite (some store is buffered, or the model
   * keeps a history of writes): the one field the machine's hot path checks. x64: only while a
   * store is buffered. arm64: from start() to the end of the run.
   */
  active = false;

  /** Set (by the trace recorder) to collect what each weak operation did; null otherwise. */
  events: WeakEvents | null = null;

  private readonly arm: boolean;
  private readonly n: number;

  // ---- store buffers: per CPU, entries 0 … len-1 in program order (0 = oldest) ----
  private readonly bufLen: Int32Array;
  private readonly bufAddr: Int32Array;
  private readonly bufVal: Int32Array;
  private readonly bufStep: Int32Array;
  private readonly bufRel: Uint8Array;
  private totalBuffered = 0;

  // ---- arm64: the global log of visible writes, indexed by timestamp ----
  /** Newest timestamp handed out (0: nothing written since start). */
  private now = 0;
  private logVal = new Int32Array(1024);
  /** Timestamp of the previous write to the same address (0: the address's initial value). */
  private logPrev = new Int32Array(1024);
  private logCpu = new Int32Array(1024);
  private logStep = new Int32Array(1024);
  /** The step each write became visible (MAX_STALE_AGE counts from it). */
  private logVis = new Int32Array(1024);

  // ---- arm64: addresses written since start get a slot (1 …); slotOf maps address → slot ----
  private slotOf: Int32Array | null = null;
  private slots = 0;
  private slotAddr = new Int32Array(256);
  /** Newest timestamp of the slot's address. */
  private slotHead = new Int32Array(256);
  /** What the address held before its first write since start (timestamp 0). */
  private slotInit = new Int32Array(256);
  /** coh per slot and CPU: coh[slot * n + cpu]. */
  private coh: Int32Array<ArrayBuffer>;

  // ---- arm64: per-CPU views ----
  private readonly vrOld: Int32Array;
  private readonly vwOld: Int32Array;
  /**
   * Timestamp of each CPU's newest visible release store (Promising-ARM's vRel): an acquire read
   * after it reads nothing older (an LDAR is not reordered before an earlier STLR, RCsc).
   */
  private readonly vRel: Int32Array;
  private readonly vrNew: Int32Array;
  /** The last DEPENDENCY_READS weak reads of each CPU (a ring): value and timestamp read. */
  private readonly depVal: Int32Array;
  private readonly depTs: Int32Array;
  private readonly depPos: Int32Array;
  /** The CPU of the SC access in progress (beforeSc names it; afterScWrite does not). */
  private scCpu = 0;

  constructor(
    readonly arch: Arch,
    readonly cpuCount: number,
    private readonly words: Int32Array,
    /** Called when a store becomes visible and changed the word (spinners on it wake). */
    private readonly onVisible: (addr: number) => void,
    /** The machine: steps for the trace and history, blocks for the address dependency (tests may omit it). */
    private readonly host: WeakHost | null = null,
  ) {
    const n = cpuCount;
    this.arm = arch === 'arm64';
    this.n = n;
    this.bufLen = new Int32Array(n);
    this.bufAddr = new Int32Array(n * D);
    this.bufVal = new Int32Array(n * D);
    this.bufStep = new Int32Array(n * D);
    this.bufRel = new Uint8Array(n * D);
    this.vrOld = new Int32Array(n);
    this.vRel = new Int32Array(n);
    this.vwOld = new Int32Array(n);
    this.vrNew = new Int32Array(n);
    this.depVal = new Int32Array(n * R);
    this.depTs = new Int32Array(n * R);
    this.depPos = new Int32Array(n);
    this.coh = new Int32Array(256 * n);
  }

  /** Back to power-on state for a new run: costs what the run touched (its slots), not the memory size. */
  reset(): void {
    this.active = false;
    this.bufLen.fill(0);
    this.totalBuffered = 0;
    this.events?.clear();
    if (!this.arm) return;
    const slotOf = this.slotOf;
    if (slotOf !== null) for (let s = 1; s <= this.slots; s++) slotOf[this.slotAddr[s]!] = 0;
    this.slots = 0;
    this.now = 0;
    this.vrOld.fill(0);
    this.vwOld.fill(0);
    this.vRel.fill(0);
    this.vrNew.fill(0);
    this.depVal.fill(0);
    this.depTs.fill(0);
    this.depPos.fill(0);
  }

  /**
   * The run's setup is over (Machine calls it at the run's first step): on arm64 the model starts
   * recording, and what memory holds now is timestamp 0 for every CPU. Nothing on x64.
   */
  start(): void {
    if (this.arm) this.active = true;
  }

  /** Stores held in `cpu`'s buffer. */
  buffered(cpu: number): number {
    return this.bufLen[cpu]!;
  }

  /** `cpu`'s buffered store number `entry` (0 = oldest): for the UI and the trace (allocates). */
  bufferedStore(cpu: number, entry: number): StoreEvent {
    if (entry < 0 || entry >= this.bufLen[cpu]!) throw new Error(`CPU ${cpu} has no buffered store ${entry}`);
    const i = cpu * D + entry;
    return { cpu, addr: this.bufAddr[i]!, value: this.bufVal[i]!, storedAt: this.bufStep[i]!, release: this.bufRel[i] === 1 };
  }

  /**
   * Whether a store by `cpu` with `order` may be held in its buffer now (VARIANT_BUFFER may be
   * asked). False where the default would buffer it anyway (x64: the buffer is not empty; arm64:
   * an older entry has its address, or it is a release behind older entries): the variant would
   * be the same step. `order` may carry ORDER_FENCE_BEFORE (the buffer is drained first).
   */
  canBuffer(cpu: number, addr: number, order: number): boolean {
    if ((order & ORDER_FENCE_BEFORE) !== 0) return true;
    if (!this.arm) return this.bufLen[cpu] === 0;
    return !this.mustWait(cpu, addr, (order & ORDER_MASK) === ORDER_RELEASE);
  }

  /**
   * How many older values (0..MAX_STALE_READS) a read by `cpu` of `addr` with `order` may return
   * instead of the newest. `order` may carry ORDER_FENCE_BEFORE.
   */
  staleOptions(cpu: number, addr: number, order: number): number {
    if (!this.arm || !this.active) return 0;
    // Forwarded from the buffer, or (an acquire flushing it first) the CPU's own write, the newest.
    if (this.ownEntry(cpu, addr) >= 0) return 0;
    const fenced = (order & ORDER_FENCE_BEFORE) !== 0;
    // A full fence that drains stores raises vwOld to the newest timestamp: nothing older is left.
    if (fenced && this.bufLen[cpu] !== 0) return 0;
    const slot = this.slotOf === null ? 0 : this.slotOf[addr]!;
    if (slot === 0) return 0;
    const head = this.slotHead[slot]!;
    if (this.logVal[head] !== this.words[addr]) return 0;
    if ((order & ORDER_MASK) === ORDER_ACQUIRE) {
      // A release still buffered: the acquire waits for it (RCsc), so it may read nothing older.
      for (let e = 0; e < this.bufLen[cpu]!; e++) if (this.bufRel[cpu * D + e] === 1) return 0;
    }
    const bound = Math.max(this.bound(cpu, addr, slot, fenced), (order & ORDER_MASK) === ORDER_ACQUIRE ? this.vRel[cpu]! : 0);
    let t = head;
    let k = 0;
    while (t > bound && k < MAX_STALE_READS && !this.settled(t)) {
      t = this.logPrev[t]!;
      k++;
    }
    return k;
  }

  /** Writes into out[at…] the indices of `cpu`'s buffered stores that may become visible now; returns how many. */
  flushable(cpu: number, out: Int32Array, at: number): number {
    const len = this.bufLen[cpu]!;
    if (len === 0) return 0;
    if (!this.arm) {
      out[at] = 0;
      return 1;
    }
    let k = 0;
    for (let e = 0; e < len; e++) if (this.isFlushable(cpu, e)) out[at + k++] = e;
    return k;
  }

  /** Makes `cpu`'s buffered store number `entry` visible. */
  flush(cpu: number, entry: number): void {
    if (entry < 0 || entry >= this.bufLen[cpu]! || (entry !== 0 && (!this.arm || !this.isFlushable(cpu, entry)))) {
      throw new Error(`CPU ${cpu}'s buffered store ${entry} cannot become visible now (${this.bufLen[cpu]} buffered)`);
    }
    this.flushEntry(cpu, entry);
  }

  /**
   * Whether some CPU holds a store made at or before step `limit` (see expire). Cheap: the oldest
   * entry of each buffer is its first.
   */
  hasStoreOlderThan(limit: number): boolean {
    for (let c = 0; c < this.n; c++) if (this.bufLen[c]! !== 0 && this.bufStep[c * D]! <= limit) return true;
    return false;
  }

  /**
   * Makes visible every buffered store made at or before step `limit`, oldest first (the oldest
   * entry of a buffer may always become visible: nothing older constrains it).
   */
  expire(limit: number): void {
    for (let c = 0; c < this.n; c++) while (this.bufLen[c]! !== 0 && this.bufStep[c * D]! <= limit) this.flushEntry(c, 0);
  }

  /** Makes every buffered store of every CPU visible (before a deadlock or hang is reported), CPU by CPU, oldest first. */
  drainAll(): void {
    for (let c = 0; c < this.n; c++) this.drain(c);
  }

  /** Makes `cpu`'s buffered stores visible, oldest first. */
  drain(cpu: number): void {
    while (this.bufLen[cpu]! !== 0) this.flushEntry(cpu, 0);
  }

  /** An ordering-API read by `cpu` performed as `variant` asks. */
  read(cpu: number, addr: number, order: MemoryOrder, variant: number): number {
    if (this.arm && order === ORDER_ACQUIRE) this.flushReleases(cpu);
    const own = this.ownEntry(cpu, addr);
    if (own >= 0) {
      const v = this.bufVal[cpu * D + own]!;
      if (this.arm) this.remember(cpu, v, 0);
      if (this.events !== null) this.events.read = { cpu, addr, value: v, forwarded: true, from: { step: this.bufStep[cpu * D + own]!, cpu }, stale: null };
      return v;
    }
    if (!this.arm) {
      const v = this.words[addr]!;
      if (this.events !== null) this.events.read = { cpu, addr, value: v, forwarded: false, from: null, stale: null };
      return v;
    }
    return this.readArm(cpu, addr, order, variant > 0 ? variant : 0);
  }

  /** An ordering-API write by `cpu` performed as `variant` asks. */
  write(cpu: number, addr: number, value: number, order: MemoryOrder, variant: number): void {
    const release = this.arm && order === ORDER_RELEASE;
    const len = this.bufLen[cpu]!;
    const step = this.host === null ? 0 : this.host.step;
    if (variant !== VARIANT_BUFFER && (this.arm ? !this.mustWait(cpu, addr, release) : len === 0)) {
      if (len !== 0 && this.events !== null) {
        this.events.visible.push({ cpu, addr, value, storedAt: step, release, visibleAt: step, overtook: this.older(cpu, len) });
      }
      this.publish(cpu, addr, value, step);
      if (release) this.vRel[cpu] = this.now;
      return;
    }
    if (len === D) this.flushEntry(cpu, 0);
    const i = cpu * D + this.bufLen[cpu]!;
    this.bufAddr[i] = addr;
    this.bufVal[i] = value;
    this.bufStep[i] = step;
    this.bufRel[i] = release ? 1 : 0;
    this.bufLen[cpu]++;
    this.totalBuffered++;
    this.active = true;
    if (this.events !== null) this.events.buffered = { cpu, addr, value, storedAt: step, release };
  }

  /** A barrier on `cpu`. */
  fence(cpu: number, kind: FenceKind): void {
    if (!this.arm) {
      if (kind === 'full') this.drain(cpu);
      return;
    }
    if (kind !== 'load') this.drain(cpu);
    if (kind === 'store') return;
    let v = Math.max(this.vrNew[cpu]!, this.vrOld[cpu]!);
    if (kind === 'full') v = Math.max(v, this.vwOld[cpu]!);
    this.vrNew[cpu] = v;
  }

  /** Before a sequentially consistent access by `cpu` (only while `active`): a full barrier that also sees everything visible. */
  beforeSc(cpu: number): void {
    this.scCpu = cpu;
    if (this.bufLen[cpu] !== 0) this.drain(cpu);
    if (this.arm) this.vrNew[cpu] = this.now;
  }

  /**
   * After a sequentially consistent write of `value` to `addr` (only while `active`) by the CPU
   * beforeSc named; `previous` is what the word held before.
   */
  afterScWrite(addr: number, value: number, previous: number = value): void {
    if (!this.arm) return;
    const cpu = this.scCpu;
    const ts = this.append(cpu, addr, value, previous, this.host === null ? 0 : this.host.step);
    this.vrNew[cpu] = ts;
  }

  /** A context transition on `cpu` (a context ends, a thread switches out or in, a DPC or ISR is delivered): a full barrier. */
  switchContext(cpu: number): void {
    this.beforeSc(cpu);
  }

  // ---- internals ------------------------------------------------------------------------------

  /** The newest entry of `cpu`'s buffer for `addr`, or -1. */
  private ownEntry(cpu: number, addr: number): number {
    const base = cpu * D;
    for (let e = this.bufLen[cpu]! - 1; e >= 0; e--) if (this.bufAddr[base + e] === addr) return e;
    return -1;
  }

  /** arm64: a store that may not become visible yet (an older entry has its address; a release behind any entry). */
  private mustWait(cpu: number, addr: number, release: boolean): boolean {
    const len = this.bufLen[cpu]!;
    if (len === 0) return false;
    if (release) return true;
    const base = cpu * D;
    for (let e = 0; e < len; e++) if (this.bufAddr[base + e] === addr) return true;
    return false;
  }

  private isFlushable(cpu: number, e: number): boolean {
    if (e === 0) return true;
    const base = cpu * D;
    if (this.bufRel[base + e] === 1) return false;
    const a = this.bufAddr[base + e];
    for (let i = 0; i < e; i++) if (this.bufAddr[base + i] === a) return false;
    return true;
  }

  /** Removes entry `e` of `cpu`'s buffer and makes it visible. */
  private flushEntry(cpu: number, e: number): void {
    const base = cpu * D;
    const i = base + e;
    const addr = this.bufAddr[i]!;
    const value = this.bufVal[i]!;
    const storedAt = this.bufStep[i]!;
    const release = this.bufRel[i] === 1;
    const len = this.bufLen[cpu]!;
    for (let j = i + 1; j < base + len; j++) {
      this.bufAddr[j - 1] = this.bufAddr[j]!;
      this.bufVal[j - 1] = this.bufVal[j]!;
      this.bufStep[j - 1] = this.bufStep[j]!;
      this.bufRel[j - 1] = this.bufRel[j]!;
    }
    this.bufLen[cpu] = len - 1;
    if (--this.totalBuffered === 0 && !this.arm) this.active = false;
    if (this.events !== null) {
      this.events.visible.push({ cpu, addr, value, storedAt, release, visibleAt: this.host === null ? 0 : this.host.step, overtook: this.older(cpu, e) });
    }
    this.publish(cpu, addr, value, storedAt);
    if (release && this.arm) this.vRel[cpu] = this.now;
  }

  /** `cpu`'s first `count` buffered stores (for the trace). */
  private older(cpu: number, count: number): StoreEvent[] {
    const out: StoreEvent[] = [];
    for (let e = 0; e < count; e++) out.push(this.bufferedStore(cpu, e));
    return out;
  }

  /** arm64, before an acquire read: the CPU's buffered releases (and so every entry older than them) become visible. */
  private flushReleases(cpu: number): void {
    const base = cpu * D;
    let last = -1;
    for (let e = 0; e < this.bufLen[cpu]!; e++) if (this.bufRel[base + e] === 1) last = e;
    for (let e = 0; e <= last; e++) this.flushEntry(cpu, 0);
  }

  /** A store becomes visible to every CPU. */
  private publish(cpu: number, addr: number, value: number, storedAt: number): void {
    const old = this.words[addr]!;
    if (this.arm && this.active) {
      const ts = this.append(cpu, addr, value, old, storedAt);
      this.coh[this.slotOf![addr]! * this.n + cpu] = ts;
      if (ts > this.vwOld[cpu]!) this.vwOld[cpu] = ts;
    }
    this.words[addr] = value;
    if (old !== value) this.onVisible(addr);
  }

  /** arm64: appends a visible write to the log and its address's history; returns its timestamp. */
  private append(cpu: number, addr: number, value: number, previous: number, step: number): number {
    let slotOf = this.slotOf;
    if (slotOf === null) slotOf = this.slotOf = new Int32Array(this.words.length);
    let slot = slotOf[addr]!;
    if (slot === 0) slot = this.newSlot(addr, previous);
    const ts = ++this.now;
    if (ts >= this.logVal.length) this.growLog();
    this.logVal[ts] = value;
    this.logPrev[ts] = this.slotHead[slot]!;
    this.logCpu[ts] = cpu;
    this.logStep[ts] = step;
    this.logVis[ts] = this.host === null ? 0 : this.host.step;
    this.slotHead[slot] = ts;
    return ts;
  }

  private newSlot(addr: number, initial: number): number {
    const s = ++this.slots;
    if (s >= this.slotAddr.length) {
      const size = this.slotAddr.length * 2;
      this.slotAddr = grow(this.slotAddr, size);
      this.slotHead = grow(this.slotHead, size);
      this.slotInit = grow(this.slotInit, size);
      this.coh = grow(this.coh, size * this.n);
    }
    this.slotOf![addr] = s;
    this.slotAddr[s] = addr;
    this.slotHead[s] = 0;
    this.slotInit[s] = initial;
    this.coh.fill(0, s * this.n, (s + 1) * this.n);
    return s;
  }

  private growLog(): void {
    const size = this.logVal.length * 2;
    this.logVal = grow(this.logVal, size);
    this.logPrev = grow(this.logPrev, size);
    this.logCpu = grow(this.logCpu, size);
    this.logStep = grow(this.logStep, size);
    this.logVis = grow(this.logVis, size);
  }

  /** arm64: write `t` has been visible for MAX_STALE_AGE steps or more: no read may see anything older. */
  private settled(t: number): boolean {
    return this.host !== null && this.logVis[t]! <= this.host.step - MAX_STALE_AGE;
  }

  /** arm64: the oldest timestamp a read by `cpu` of `addr` may still see (`fenced`: a full fence comes first). */
  private bound(cpu: number, addr: number, slot: number, fenced: boolean): number {
    let b = Math.max(this.vrNew[cpu]!, this.coh[slot * this.n + cpu]!);
    if (fenced) b = Math.max(b, this.vrOld[cpu]!, this.vwOld[cpu]!);
    return Math.max(b, this.dependency(cpu, addr));
  }

  /** arm64: the newest timestamp of a remembered read whose value points into the block holding `addr` (0: none). */
  private dependency(cpu: number, addr: number): number {
    if (this.host === null) return 0;
    const b = this.host.memory.blockAt(addr);
    if (b === undefined) return 0;
    const lo = b.addr;
    const hi = b.addr + b.words;
    let t = 0;
    for (let i = cpu * R; i < cpu * R + R; i++) {
      const v = this.depVal[i]!;
      if (v >= lo && v < hi && this.depTs[i]! > t) t = this.depTs[i]!;
    }
    return t;
  }

  private remember(cpu: number, value: number, ts: number): void {
    const p = this.depPos[cpu]!;
    this.depVal[cpu * R + p] = value;
    this.depTs[cpu * R + p] = ts;
    this.depPos[cpu] = (p + 1) % R;
  }

  /** arm64: a read from memory, `k` writes older than the newest. */
  private readArm(cpu: number, addr: number, order: MemoryOrder, k: number): number {
    const slot = this.slotOf === null ? 0 : this.slotOf[addr]!;
    const words = this.words;
    if (slot === 0 || this.logVal[this.slotHead[slot]!] !== words[addr]) {
      // Never written since start, or written by a kernel path behind the model's back: only what memory holds.
      if (k !== 0) throw new Error(`no older value of ${addr} to read (asked for ${k})`);
      const v = words[addr]!;
      const t = slot === 0 ? 0 : this.slotHead[slot]!;
      if (slot !== 0) this.saw(cpu, slot, t, order);
      this.remember(cpu, v, t);
      if (this.events !== null) this.events.read = { cpu, addr, value: v, forwarded: false, from: null, stale: null };
      return v;
    }
    const head = this.slotHead[slot]!;
    let t = head;
    if (k !== 0) {
      const bound = Math.max(this.bound(cpu, addr, slot, false), order === ORDER_ACQUIRE ? this.vRel[cpu]! : 0);
      for (let i = 0; i < k; i++) {
        if (t <= bound || this.settled(t)) throw new Error(`CPU ${cpu} cannot read a value of ${addr} ${k} writes old`);
        t = this.logPrev[t]!;
      }
    }
    const v = t === 0 ? this.slotInit[slot]! : this.logVal[t]!;
    this.saw(cpu, slot, t, order);
    this.remember(cpu, v, t);
    if (this.events !== null) {
      this.events.read = {
        cpu, addr, value: v, forwarded: false,
        from: t === 0 ? null : { step: this.logStep[t]!, cpu: this.logCpu[t]! },
        stale: k === 0 ? null : { newest: this.logVal[head]!, newestStep: this.logStep[head]!, newestCpu: this.logCpu[head]! },
      };
    }
    return v;
  }

  /** arm64: `cpu` read the write with timestamp `t` of the slot's address. */
  private saw(cpu: number, slot: number, t: number, order: MemoryOrder): void {
    const c = slot * this.n + cpu;
    if (t > this.coh[c]!) this.coh[c] = t;
    if (t > this.vrOld[cpu]!) this.vrOld[cpu] = t;
    if (order === ORDER_ACQUIRE && t > this.vrNew[cpu]!) this.vrNew[cpu] = t;
  }
}

function grow(a: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}
