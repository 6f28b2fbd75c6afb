/**
 * Windows' memory-ordering APIs for driver code (wdm.h / winnt.h): the loads and stores that say
 * how they are ordered (ReadNoFence, ReadAcquire, WriteRelease, ReadRaw … and their 8/16/64-bit and
 * pointer forms), the barriers (KeMemoryBarrier, MemoryBarrier, KeMemoryBarrierWithoutFence,
 * _ReadWriteBarrier), the Interlocked*Acquire / *Release / *NoFence forms, and `volatile`
 * accesses (ReadVolatile / WriteVolatile) whose ordering follows the scenario's `volatile` setting
 * (MSVC's /volatile:ms or /volatile:iso).
 *
 * Each load and store is one scheduling point announced with its order (Machine.atOrdered); the
 * rig's memory model (machine/weak-memory.ts) decides what it sees and when it becomes visible:
 * x86-TSO on x64 rigs, ARMv8 on arm64 rigs. Every other access — a kernel routine's, any
 * Interlocked* operation's — is sequentially consistent and a full barrier for its processor.
 * That is stronger than Windows on ARM64 for the Acquire/Release/NoFence interlocked forms and for
 * releases inside kernel routines (KeReleaseSpinLock is only a release there): a reordering across
 * one of those is never explored — a bug can be missed, never reported on a correct driver.
 *
 * Every value in this machine is one 32-bit word, so the 8-, 16-, 64-bit and pointer forms read
 * and write the word at their address (a pointer is a machine address).
 *
 * A loop that keeps reading a word and seeing the same value is a spin-wait even when the driver
 * wrote no PAUSE: every read form here notes futile reads as ReadNoFence always did
 * (Machine.noteFutile), so exploration does not burn steps on it.
 *
 * Sources for the per-architecture orderings in the doc comments: wdm.h / winnt.h (ReadAcquire is
 * `__ldar32` on ARM64 and a plain load on x64, WriteRelease `__stlr32` / a plain store,
 * ReadNoFence/WriteNoFence `__iso_volatile_load32/store32`, MemoryBarrier `__dmb(ISH)` on ARM64
 * and `__faststorefence` on x64, KeMemoryBarrierWithoutFence `_ReadWriteBarrier()`); "KeMemoryBarrier
 * function (wdm.h)" and "MemoryBarrier function (winnt.h)" on learn.microsoft.com;
 * "InterlockedCompareExchangeAcquire" (acquire semantics only) and "Acquire and Release Semantics"
 * (WDK); "/volatile (volatile Keyword Interpretation)" (MSVC: /volatile:iso is the default when
 * targeting ARM and ARM64 except ARM64EC, /volatile:ms on every other target).
 */
import { OP_PAUSE, OP_READ, OP_SPIN, OP_WRITE, type Routine } from '../machine/ops.ts';
import { ORDER_ACQUIRE, ORDER_PLAIN, ORDER_RELEASE, type MemoryOrder } from '../machine/weak-memory.ts';
import type { Arch } from '../machine/rig.ts';
import type { Kernel } from './kernel.ts';

export type PLONG = number;

/**
 * How `volatile` accesses are compiled: /volatile:ms (acquire loads, release stores) or /volatile:iso (no
 * ordering).
 */
export type VolatileSemantics = 'ms' | 'iso';

/** MSVC's default for the architecture: /volatile:iso when targeting ARM64, /volatile:ms on x64. */
export function defaultVolatile(arch: Arch): VolatileSemantics {
  return arch === 'arm64' ? 'iso' : 'ms';
}

/** The per-run state of this family: only present when the scenario chose its `volatile` setting. */
interface OrderingState {
  volatile: VolatileSemantics;
}

const FAMILY = 'ordering';

/**
 * Sets how this run compiles `volatile` (the scenario's `volatile` field); called after the
 * kernel's reset, before setup. Undefined keeps the architecture's default.
 */
export function setVolatileSemantics(k: Kernel, v: VolatileSemantics | undefined): void {
  if (v !== undefined) k.perRun<OrderingState>(FAMILY, () => ({ volatile: v })).volatile = v;
}

/** The `volatile` setting this run uses. */
export function volatileSemantics(k: Kernel): VolatileSemantics {
  const st = k.ext.get(FAMILY) as OrderingState | undefined;
  return st !== undefined ? st.volatile : defaultVolatile(k.m.weak.arch);
}

function volatileOrder(k: Kernel, write: boolean): MemoryOrder {
  if (volatileSemantics(k) === 'iso') return ORDER_PLAIN;
  return write ? ORDER_RELEASE : ORDER_ACQUIRE;
}

export const orderingApi = {
  /**
   * `*p` with no ordering: a single-copy-atomic load the compiler keeps (wdm.h: a volatile load; ARM64:
   *   `__iso_volatile_load32`).
   * x64: a plain MOV load. x86-TSO keeps loads in order with loads and stores after them, so it behaves as an
   *   acquire anyway; only a later load passing an earlier store (store buffering) is possible.
   * ARM64: a plain LDR: it may be satisfied before earlier loads and stores to other addresses, and may
   *   return a value other processors have already overwritten.
   * Any IRQL (the memory must be non-paged at DISPATCH_LEVEL and above).
   */
  *ReadNoFence(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_PLAIN);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadNoFence for a CHAR: every value in this machine is one word, so it reads the word at `p` with
   * ReadNoFence's ordering. Any IRQL.
   */
  *ReadNoFence8(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_PLAIN);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadNoFence for a SHORT: every value in this machine is one word, so it reads the word at `p` with
   * ReadNoFence's ordering. Any IRQL.
   */
  *ReadNoFence16(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_PLAIN);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadNoFence for a LONG64: every value in this machine is one word, so it reads the word at `p` with
   * ReadNoFence's ordering. Any IRQL.
   */
  *ReadNoFence64(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_PLAIN);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadNoFence for a PVOID: every value in this machine is one word, so it reads the word at `p` with
   * ReadNoFence's ordering. Any IRQL.
   */
  *ReadPointerNoFence(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_PLAIN);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * `*p = value` with no ordering: a single-copy-atomic store the compiler keeps (wdm.h: a volatile store;
   *   ARM64: `__iso_volatile_store32`).
   * x64: a plain MOV store into the store buffer: other processors see it later, but in program order with
   *   this processor's other stores (TSO).
   * ARM64: a plain STR: other processors may see it before or after this processor's other stores to other
   *   addresses.
   * Any IRQL (the memory must be non-paged at DISPATCH_LEVEL and above).
   */
  *WriteNoFence(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteNoFence for a CHAR: every value in this machine is one word, so it writes the word at `p` with
   * WriteNoFence's ordering. Any IRQL.
   */
  *WriteNoFence8(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteNoFence for a SHORT: every value in this machine is one word, so it writes the word at `p` with
   * WriteNoFence's ordering. Any IRQL.
   */
  *WriteNoFence16(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteNoFence for a LONG64: every value in this machine is one word, so it writes the word at `p` with
   * WriteNoFence's ordering. Any IRQL.
   */
  *WriteNoFence64(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteNoFence for a PVOID: every value in this machine is one word, so it writes the word at `p` with
   * WriteNoFence's ordering. Any IRQL.
   */
  *WritePointerNoFence(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * `*p` as a non-volatile C read: no ordering, and on Windows the compiler may also merge or hoist it (a
   *   loop of ReadRaw may read once). The machine never reorders for the compiler, so here it behaves as
   *   ReadNoFence.
   * x64: as ReadNoFence (a MOV load).
   * ARM64: as ReadNoFence (an LDR).
   * Any IRQL (the memory must be non-paged at DISPATCH_LEVEL and above).
   */
  *ReadRaw(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_PLAIN);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadRaw for a CHAR: every value in this machine is one word, so it reads the word at `p` with ReadRaw's
   * ordering. Any IRQL.
   */
  *ReadRaw8(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_PLAIN);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadRaw for a SHORT: every value in this machine is one word, so it reads the word at `p` with ReadRaw's
   * ordering. Any IRQL.
   */
  *ReadRaw16(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_PLAIN);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadRaw for a LONG64: every value in this machine is one word, so it reads the word at `p` with ReadRaw's
   * ordering. Any IRQL.
   */
  *ReadRaw64(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_PLAIN);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadRaw for a PVOID: every value in this machine is one word, so it reads the word at `p` with ReadRaw's
   * ordering. Any IRQL.
   */
  *ReadPointerRaw(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_PLAIN);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * `*p = value` as a non-volatile C write: no ordering, and the compiler may merge or sink it. The machine
   *   never reorders for the compiler, so here it behaves as WriteNoFence.
   * x64: as WriteNoFence (a MOV store).
   * ARM64: as WriteNoFence (an STR).
   * Any IRQL (the memory must be non-paged at DISPATCH_LEVEL and above).
   */
  *WriteRaw(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteRaw for a CHAR: every value in this machine is one word, so it writes the word at `p` with WriteRaw's
   * ordering. Any IRQL.
   */
  *WriteRaw8(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteRaw for a SHORT: every value in this machine is one word, so it writes the word at `p` with
   * WriteRaw's ordering. Any IRQL.
   */
  *WriteRaw16(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteRaw for a LONG64: every value in this machine is one word, so it writes the word at `p` with
   * WriteRaw's ordering. Any IRQL.
   */
  *WriteRaw64(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteRaw for a PVOID: every value in this machine is one word, so it writes the word at `p` with
   * WriteRaw's ordering. Any IRQL.
   */
  *WritePointerRaw(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * `*p` with acquire semantics: no later load or store of this processor is seen before it (pair it with
   *   WriteRelease).
   * x64: a plain MOV load and a compiler barrier: every x86 load is an acquire already.
   * ARM64: LDAR (`__ldar32`): later accesses are not performed before it, and it is not performed before an
   *   earlier STLR of this processor (RCsc).
   * Any IRQL (the memory must be non-paged at DISPATCH_LEVEL and above).
   */
  *ReadAcquire(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_ACQUIRE);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadAcquire for a CHAR: every value in this machine is one word, so it reads the word at `p` with
   * ReadAcquire's ordering. Any IRQL.
   */
  *ReadAcquire8(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_ACQUIRE);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadAcquire for a SHORT: every value in this machine is one word, so it reads the word at `p` with
   * ReadAcquire's ordering. Any IRQL.
   */
  *ReadAcquire16(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_ACQUIRE);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadAcquire for a LONG64: every value in this machine is one word, so it reads the word at `p` with
   * ReadAcquire's ordering. Any IRQL.
   */
  *ReadAcquire64(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_ACQUIRE);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * ReadAcquire for a PVOID: every value in this machine is one word, so it reads the word at `p` with
   * ReadAcquire's ordering. Any IRQL.
   */
  *ReadPointerAcquire(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, ORDER_ACQUIRE);
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * `*p = value` with release semantics: every earlier load and store of this processor is visible before
   *   this store is (pair it with ReadAcquire).
   * x64: a compiler barrier and a plain MOV store: every x86 store is a release already (stores leave the
   *   FIFO store buffer in order).
   * ARM64: STLR (`__stlr32`): it becomes visible only after every earlier access of this processor; later
   *   plain stores may still become visible before it.
   * Any IRQL (the memory must be non-paged at DISPATCH_LEVEL and above).
   */
  *WriteRelease(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_RELEASE);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteRelease for a CHAR: every value in this machine is one word, so it writes the word at `p` with
   * WriteRelease's ordering. Any IRQL.
   */
  *WriteRelease8(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_RELEASE);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteRelease for a SHORT: every value in this machine is one word, so it writes the word at `p` with
   * WriteRelease's ordering. Any IRQL.
   */
  *WriteRelease16(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_RELEASE);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteRelease for a LONG64: every value in this machine is one word, so it writes the word at `p` with
   * WriteRelease's ordering. Any IRQL.
   */
  *WriteRelease64(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_RELEASE);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * WriteRelease for a PVOID: every value in this machine is one word, so it writes the word at `p` with
   * WriteRelease's ordering. Any IRQL.
   */
  *WritePointerRelease(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, ORDER_RELEASE);
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * A read of a `volatile` variable (`x = *p` where p is `volatile LONG *`), ordered as the
   * scenario's `volatile` setting says. /volatile:ms: an acquire (ReadAcquire). /volatile:iso: no
   * ordering (ReadNoFence).
   * x64: a plain MOV load either way (an acquire already).
   * ARM64: /volatile:ms: LDAR (or LDR; DMB ISH); /volatile:iso — MSVC's default for ARM64 — a plain LDR.
   * Any IRQL.
   */
  *ReadVolatile(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.atOrdered(OP_READ, p, volatileOrder(this, false));
    const v = m.readOrdered(p);
    if (m.noteFutile(p, OP_READ, v, false)) yield m.at(OP_SPIN, p);
    return v;
  },

  /**
   * A write of a `volatile` variable (`*p = value` where p is `volatile LONG *`), ordered as the
   * scenario's `volatile` setting says. /volatile:ms: a release (WriteRelease). /volatile:iso: no
   * ordering (WriteNoFence).
   * x64: a plain MOV store either way (a release already).
   * ARM64: /volatile:ms: STLR (or DMB ISH; STR); /volatile:iso — MSVC's default for ARM64 — a plain STR.
   * Any IRQL.
   */
  *WriteVolatile(this: Kernel, p: PLONG, value: number): Routine<void> {
    const m = this.m;
    yield m.atOrdered(OP_WRITE, p, volatileOrder(this, true));
    m.writeOrdered(p, value | 0);
    m.cur.futile = 0;
  },

  /**
   * A full hardware memory barrier: no load or store after it is performed before every load and
   * store before it is complete and visible, and the compiler moves nothing across it.
   * x64: a locked operation (`__faststorefence`, as MFENCE): drains the store buffer.
   * ARM64: DMB ISH.
   * Any IRQL. One scheduling point.
   */
  *KeMemoryBarrier(this: Kernel): Routine<void> {
    const m = this.m;
    yield m.at(OP_PAUSE, 0);
    m.fence('full');
  },

  /**
   * winnt.h's MemoryBarrier: the same full barrier as KeMemoryBarrier.
   * x64: `__faststorefence` (a locked OR on the stack). ARM64: `__dmb(_ARM64_BARRIER_ISH)`.
   * Any IRQL. One scheduling point.
   */
  *MemoryBarrier(this: Kernel): Routine<void> {
    const m = this.m;
    yield m.at(OP_PAUSE, 0);
    m.fence('full');
  },

  /**
   * A compiler-only barrier (`_ReadWriteBarrier()`): the compiler moves no access across it, the
   * processor still may. No hardware ordering on x64 or ARM64. This machine never reorders for
   * the compiler, so it is a scheduling point that orders nothing.
   * Any IRQL.
   */
  *KeMemoryBarrierWithoutFence(this: Kernel): Routine<void> {
    yield this.m.at(OP_PAUSE, 0);
  },

  /**
   * The MSVC intrinsic behind KeMemoryBarrierWithoutFence: a compiler-only barrier, no hardware
   * ordering on x64 or ARM64. A scheduling point that orders nothing here.
   * Any IRQL.
   */
  *_ReadWriteBarrier(this: Kernel): Routine<void> {
    yield this.m.at(OP_PAUSE, 0);
  },

  /**
   * InterlockedIncrement with acquire semantics only: no later access of this processor is seen before it.
   *   Returns the incremented value.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedIncrement.
   * ARM64: the LDAXR/STXR (or LSE `…A`) form: an acquire, no release — earlier accesses may become visible
   *   after it.
   * Modelled as InterlockedIncrement, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedIncrementAcquire(this: Kernel, p: PLONG): Routine<number> {
    return yield* this.InterlockedIncrement(p);
  },

  /**
   * InterlockedIncrement with release semantics only: every earlier access of this processor is visible
   *   before it. Returns the incremented value.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedIncrement.
   * ARM64: the LDXR/STLXR (or LSE `…L`) form: a release, no acquire — later accesses may be performed before
   *   it.
   * Modelled as InterlockedIncrement, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedIncrementRelease(this: Kernel, p: PLONG): Routine<number> {
    return yield* this.InterlockedIncrement(p);
  },

  /**
   * InterlockedIncrement with atomicity only, no ordering. Returns the incremented value.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedIncrement.
   * ARM64: the LDXR/STXR (or LSE) form with no barrier: accesses before and after it may be reordered with it.
   * Modelled as InterlockedIncrement, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedIncrementNoFence(this: Kernel, p: PLONG): Routine<number> {
    return yield* this.InterlockedIncrement(p);
  },

  /**
   * InterlockedDecrement with acquire semantics only: no later access of this processor is seen before it.
   *   Returns the decremented value.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedDecrement.
   * ARM64: the LDAXR/STXR (or LSE `…A`) form: an acquire, no release — earlier accesses may become visible
   *   after it.
   * Modelled as InterlockedDecrement, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedDecrementAcquire(this: Kernel, p: PLONG): Routine<number> {
    return yield* this.InterlockedDecrement(p);
  },

  /**
   * InterlockedDecrement with release semantics only: every earlier access of this processor is visible
   *   before it. Returns the decremented value.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedDecrement.
   * ARM64: the LDXR/STLXR (or LSE `…L`) form: a release, no acquire — later accesses may be performed before
   *   it.
   * Modelled as InterlockedDecrement, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedDecrementRelease(this: Kernel, p: PLONG): Routine<number> {
    return yield* this.InterlockedDecrement(p);
  },

  /**
   * InterlockedDecrement with atomicity only, no ordering. Returns the decremented value.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedDecrement.
   * ARM64: the LDXR/STXR (or LSE) form with no barrier: accesses before and after it may be reordered with it.
   * Modelled as InterlockedDecrement, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedDecrementNoFence(this: Kernel, p: PLONG): Routine<number> {
    return yield* this.InterlockedDecrement(p);
  },

  /**
   * InterlockedExchange with acquire semantics only: no later access of this processor is seen before it.
   *   Returns the previous value.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedExchange.
   * ARM64: the LDAXR/STXR (or LSE `…A`) form: an acquire, no release — earlier accesses may become visible
   *   after it.
   * Modelled as InterlockedExchange, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedExchangeAcquire(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedExchange(p, value);
  },

  /**
   * InterlockedExchange with release semantics only: every earlier access of this processor is visible before
   *   it. Returns the previous value.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedExchange.
   * ARM64: the LDXR/STLXR (or LSE `…L`) form: a release, no acquire — later accesses may be performed before
   *   it.
   * Modelled as InterlockedExchange, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedExchangeRelease(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedExchange(p, value);
  },

  /**
   * InterlockedExchange with atomicity only, no ordering. Returns the previous value.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedExchange.
   * ARM64: the LDXR/STXR (or LSE) form with no barrier: accesses before and after it may be reordered with it.
   * Modelled as InterlockedExchange, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedExchangeNoFence(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedExchange(p, value);
  },

  /**
   * InterlockedCompareExchange with acquire semantics only: no later access of this processor is seen before
   *   it. Returns the previous value; stores `exchange` iff it equalled `comparand`.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedCompareExchange.
   * ARM64: the LDAXR/STXR (or LSE `…A`) form: an acquire, no release — earlier accesses may become visible
   *   after it.
   * Modelled as InterlockedCompareExchange, a full barrier: stronger than ARM64, so a reordering across it is
   *   never explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedCompareExchangeAcquire(this: Kernel, p: PLONG, exchange: number, comparand: number): Routine<number> {
    return yield* this.InterlockedCompareExchange(p, exchange, comparand);
  },

  /**
   * InterlockedCompareExchange with release semantics only: every earlier access of this processor is visible
   *   before it. Returns the previous value; stores `exchange` iff it equalled `comparand`.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedCompareExchange.
   * ARM64: the LDXR/STLXR (or LSE `…L`) form: a release, no acquire — later accesses may be performed before
   *   it.
   * Modelled as InterlockedCompareExchange, a full barrier: stronger than ARM64, so a reordering across it is
   *   never explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedCompareExchangeRelease(this: Kernel, p: PLONG, exchange: number, comparand: number): Routine<number> {
    return yield* this.InterlockedCompareExchange(p, exchange, comparand);
  },

  /**
   * InterlockedCompareExchange with atomicity only, no ordering. Returns the previous value; stores
   *   `exchange` iff it equalled `comparand`.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedCompareExchange.
   * ARM64: the LDXR/STXR (or LSE) form with no barrier: accesses before and after it may be reordered with it.
   * Modelled as InterlockedCompareExchange, a full barrier: stronger than ARM64, so a reordering across it is
   *   never explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedCompareExchangeNoFence(this: Kernel, p: PLONG, exchange: number, comparand: number): Routine<number> {
    return yield* this.InterlockedCompareExchange(p, exchange, comparand);
  },

  /**
   * InterlockedExchangeAdd with acquire semantics only: no later access of this processor is seen before it.
   *   Returns the value before the add.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedExchangeAdd.
   * ARM64: the LDAXR/STXR (or LSE `…A`) form: an acquire, no release — earlier accesses may become visible
   *   after it.
   * Modelled as InterlockedExchangeAdd, a full barrier: stronger than ARM64, so a reordering across it is
   *   never explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedExchangeAddAcquire(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedExchangeAdd(p, value);
  },

  /**
   * InterlockedExchangeAdd with release semantics only: every earlier access of this processor is visible
   *   before it. Returns the value before the add.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedExchangeAdd.
   * ARM64: the LDXR/STLXR (or LSE `…L`) form: a release, no acquire — later accesses may be performed before
   *   it.
   * Modelled as InterlockedExchangeAdd, a full barrier: stronger than ARM64, so a reordering across it is
   *   never explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedExchangeAddRelease(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedExchangeAdd(p, value);
  },

  /**
   * InterlockedExchangeAdd with atomicity only, no ordering. Returns the value before the add.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedExchangeAdd.
   * ARM64: the LDXR/STXR (or LSE) form with no barrier: accesses before and after it may be reordered with it.
   * Modelled as InterlockedExchangeAdd, a full barrier: stronger than ARM64, so a reordering across it is
   *   never explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedExchangeAddNoFence(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedExchangeAdd(p, value);
  },

  /**
   * InterlockedOr with acquire semantics only: no later access of this processor is seen before it. Returns
   *   the value before the OR.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedOr.
   * ARM64: the LDAXR/STXR (or LSE `…A`) form: an acquire, no release — earlier accesses may become visible
   *   after it.
   * Modelled as InterlockedOr, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedOrAcquire(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedOr(p, value);
  },

  /**
   * InterlockedOr with release semantics only: every earlier access of this processor is visible before it.
   *   Returns the value before the OR.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedOr.
   * ARM64: the LDXR/STLXR (or LSE `…L`) form: a release, no acquire — later accesses may be performed before
   *   it.
   * Modelled as InterlockedOr, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedOrRelease(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedOr(p, value);
  },

  /**
   * InterlockedOr with atomicity only, no ordering. Returns the value before the OR.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedOr.
   * ARM64: the LDXR/STXR (or LSE) form with no barrier: accesses before and after it may be reordered with it.
   * Modelled as InterlockedOr, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedOrNoFence(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedOr(p, value);
  },

  /**
   * InterlockedAnd with acquire semantics only: no later access of this processor is seen before it. Returns
   *   the value before the AND.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedAnd.
   * ARM64: the LDAXR/STXR (or LSE `…A`) form: an acquire, no release — earlier accesses may become visible
   *   after it.
   * Modelled as InterlockedAnd, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedAndAcquire(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedAnd(p, value);
  },

  /**
   * InterlockedAnd with release semantics only: every earlier access of this processor is visible before it.
   *   Returns the value before the AND.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedAnd.
   * ARM64: the LDXR/STLXR (or LSE `…L`) form: a release, no acquire — later accesses may be performed before
   *   it.
   * Modelled as InterlockedAnd, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedAndRelease(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedAnd(p, value);
  },

  /**
   * InterlockedAnd with atomicity only, no ordering. Returns the value before the AND.
   * x64: a LOCK-prefixed instruction, a full barrier like InterlockedAnd.
   * ARM64: the LDXR/STXR (or LSE) form with no barrier: accesses before and after it may be reordered with it.
   * Modelled as InterlockedAnd, a full barrier: stronger than ARM64, so a reordering across it is never
   *   explored (a missed bug, never a false report).
   * Any IRQL.
   */
  *InterlockedAndNoFence(this: Kernel, p: PLONG, value: number): Routine<number> {
    return yield* this.InterlockedAnd(p, value);
  },

};

export type OrderingApi = typeof orderingApi;
