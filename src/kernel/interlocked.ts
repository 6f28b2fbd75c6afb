/**
 * The Interlocked* intrinsics for driver code, each one scheduling point and a full barrier (on
 * x64 a LOCK-prefixed instruction; on ARM64 an exclusive or LSE atomic with DMB ISH). The plain
 * and ordered loads and stores (ReadNoFence, WriteRelease, …) and the Acquire/Release/NoFence
 * interlocked forms are in ordering.ts.
 *
 * A loop that keeps reading a word and seeing the same value is a spin-wait
 * even when the driver wrote no PAUSE (the seed's
 * `while (InterlockedExchange(lock, 1));`): after a few identical futile
 * accesses the context sleeps until someone writes that word, so exploration
 * does not burn steps on it and a spin nobody will ever end is recognised.
 */
import { OP_PAUSE, OP_RMW, OP_SPIN, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';

export type PLONG = number;

export const interlockedApi = {
  /** Returns the previous value. */
  *InterlockedExchange(this: Kernel, p: PLONG, value: number): Routine<number> {
    const m = this.m;
    yield m.at(OP_RMW, p);
    const old = m.xchg(p, value | 0);
    if (m.noteFutile(p, OP_RMW, old, old !== (value | 0))) yield m.at(OP_SPIN, p);
    return old;
  },

  /** Stores `exchange` if `*p === comparand`; returns the previous value. */
  *InterlockedCompareExchange(this: Kernel, p: PLONG, exchange: number, comparand: number): Routine<number> {
    const m = this.m;
    yield m.at(OP_RMW, p);
    const old = m.cmpxchg(p, exchange | 0, comparand | 0);
    const changed = old === (comparand | 0) && old !== (exchange | 0);
    if (m.noteFutile(p, OP_RMW, old, changed)) yield m.at(OP_SPIN, p);
    return old;
  },

  /** Returns the incremented value. */
  *InterlockedIncrement(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.at(OP_RMW, p);
    m.cur.futile = 0;
    return (m.xadd(p, 1) + 1) | 0;
  },

  /** Returns the decremented value. */
  *InterlockedDecrement(this: Kernel, p: PLONG): Routine<number> {
    const m = this.m;
    yield m.at(OP_RMW, p);
    m.cur.futile = 0;
    return (m.xadd(p, -1) - 1) | 0;
  },

  /** Returns the value before the add. */
  *InterlockedExchangeAdd(this: Kernel, p: PLONG, value: number): Routine<number> {
    const m = this.m;
    yield m.at(OP_RMW, p);
    m.cur.futile = 0;
    return m.xadd(p, value | 0);
  },

  /** Returns the value before the OR. */
  *InterlockedOr(this: Kernel, p: PLONG, value: number): Routine<number> {
    const m = this.m;
    yield m.at(OP_RMW, p);
    const old = m.or(p, value | 0);
    if (m.noteFutile(p, OP_RMW, old, (old | value) !== old)) yield m.at(OP_SPIN, p);
    return old;
  },

  /** Returns the value before the AND. */
  *InterlockedAnd(this: Kernel, p: PLONG, value: number): Routine<number> {
    const m = this.m;
    yield m.at(OP_RMW, p);
    const old = m.and(p, value | 0);
    if (m.noteFutile(p, OP_RMW, old, (old & value) !== old)) yield m.at(OP_SPIN, p);
    return old;
  },

  /** PAUSE: a hint inside a spin loop; a scheduling point that changes nothing. */
  *YieldProcessor(this: Kernel): Routine<void> {
    yield this.m.at(OP_PAUSE, 0);
    this.m.notePause();
  },

  /** Busy-waits; modelled as one PAUSE. */
  *KeStallExecutionProcessor(this: Kernel, _microseconds: number): Routine<void> {
    yield this.m.at(OP_PAUSE, 0);
    this.m.notePause();
  },
};

export type InterlockedApi = typeof interlockedApi;
