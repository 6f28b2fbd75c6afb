/**
 * The memory model of a rig's architecture, for the accesses a scenario makes through Windows'
 * ordering APIs (ReadNoFence, WriteRelease, ReadAcquire, volatile accessors, KeMemoryBarrier …).
 *
 * Everything else — every access a kernel routine makes, every Interlocked* operation — is
 * sequentially consistent and a full barrier for its CPU: before it touches memory, the CPU's
 * buffered stores become visible and its later reads see at least everything visible then. That
 * is stronger than Windows on ARM64 for some routines (a spin-lock release is only a release
 * there), so a reordering across a kernel routine is never explored: such a bug is missed, never
 * reported on a correct driver.
 *
 * This file is the interface the engine and the kernel use. Until the models land it implements
 * sequential consistency for both architectures: no store is ever buffered and every read sees
 * the newest value — a correct (if strongest) implementation of both.
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
/** Older values a read is offered at most (ARM64): the exploration stays bounded. */
export const MAX_STALE_READS = 3;

export class WeakMemory {
  /**
   * True when an SC access must call beforeSc/afterScWrite (some store is buffered, or the model
   * keeps a history of writes): the one field the machine's hot path checks.
   */
  active = false;

  constructor(
    readonly arch: Arch,
    readonly cpuCount: number,
    private readonly words: Int32Array,
    /** Called when a store becomes visible and changed the word (spinners on it wake). */
    private readonly onVisible: (addr: number) => void,
  ) {}

  /** Back to power-on state for a new run. */
  reset(): void {
    this.active = false;
  }

  /** Stores held in `cpu`'s buffer. */
  buffered(_cpu: number): number {
    return 0;
  }

  /** Whether a store by `cpu` with `order` may be held in its buffer now (VARIANT_BUFFER may be asked). */
  canBuffer(_cpu: number, _addr: number, _order: MemoryOrder): boolean {
    return false;
  }

  /** How many older values (0..MAX_STALE_READS) a read by `cpu` of `addr` with `order` may return instead of the newest. */
  staleOptions(_cpu: number, _addr: number, _order: MemoryOrder): number {
    return 0;
  }

  /** Writes into out[at…] the indices of `cpu`'s buffered stores that may become visible now; returns how many. */
  flushable(_cpu: number, _out: Int32Array, _at: number): number {
    return 0;
  }

  /** Makes `cpu`'s buffered store number `entry` visible. */
  flush(_cpu: number, _entry: number): void {
    throw new Error('no store is buffered');
  }

  /** Makes every buffered store of every CPU visible (before a deadlock or hang is reported). */
  drainAll(): void {}

  /** An ordering-API read by `cpu` performed as `variant` asks. */
  read(_cpu: number, addr: number, _order: MemoryOrder, _variant: number): number {
    return this.words[addr]!;
  }

  /** An ordering-API write by `cpu` performed as `variant` asks. */
  write(_cpu: number, addr: number, value: number, _order: MemoryOrder, _variant: number): void {
    const old = this.words[addr]!;
    this.words[addr] = value;
    if (old !== value) this.onVisible(addr);
  }

  /** A barrier on `cpu`. */
  fence(_cpu: number, _kind: FenceKind): void {}

  /** Before a sequentially consistent access by `cpu` (only while `active`). */
  beforeSc(_cpu: number): void {}

  /** After a sequentially consistent write of `value` to `addr` (only while `active`). */
  afterScWrite(_addr: number, _value: number): void {}
}
