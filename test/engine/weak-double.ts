/**
 * A test double of the memory model, for the engine's tests before the real models land: x86-TSO
 * store buffers (per CPU, FIFO, forwarding, drained by barriers and sequentially consistent
 * accesses), and optionally reads of older values from a word's visible history (only to give
 * choice kind 6 something to do; not ARMv8). Reports into the event log the trace installs
 * (src/engine/weak-events.ts), as the model does.
 */
import { ControlledRun } from '../../src/engine/controlled.ts';
import type { WeakEventLog, WeakStore } from '../../src/engine/weak-events.ts';
import type { Machine } from '../../src/machine/machine.ts';
import { OP_READ, OP_WRITE, type Routine } from '../../src/machine/ops.ts';
import type { Rig } from '../../src/machine/rig.ts';
import { MAX_STALE_READS, ORDER_PLAIN, STORE_BUFFER_DEPTH, VARIANT_BUFFER, WeakMemory, type FenceKind, type MemoryOrder } from '../../src/machine/weak-memory.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { Scenario } from '../../src/scenario/define.ts';

interface Visible {
  value: number;
  step: number;
  cpu: number;
}

export class TsoDouble extends WeakMemory {
  override events: WeakEventLog | null = null;
  private readonly bufs: WeakStore[][];
  /** Values each word had, oldest first, once a weak store touched it (stale reads only). */
  private readonly history = new Map<number, Visible[]>();

  constructor(
    private readonly machine: Machine,
    private readonly staleReads = false,
  ) {
    super(machine.rig.arch, machine.cpus.length, machine.words, (a) => {
      if (machine.blocked.length !== 0) machine.wake(a);
    });
    this.bufs = machine.cpus.map(() => []);
  }

  override reset(): void {
    this.active = this.staleReads;
    for (const b of this.bufs) b.length = 0;
    this.history.clear();
  }

  override buffered(cpu: number): number {
    return this.bufs[cpu]!.length;
  }

  override canBuffer(_cpu: number, _addr: number, _order: MemoryOrder): boolean {
    return true;
  }

  override staleOptions(cpu: number, addr: number, _order: MemoryOrder): number {
    if (!this.staleReads || this.bufs[cpu]!.some((b) => b.addr === addr)) return 0;
    const h = this.history.get(addr);
    return h === undefined ? 0 : Math.min(MAX_STALE_READS, h.length - 1);
  }

  override flushable(cpu: number, out: Int32Array, at: number): number {
    if (this.bufs[cpu]!.length === 0) return 0;
    out[at] = 0;
    return 1;
  }

  override flush(cpu: number, entry: number): void {
    if (entry !== 0 || this.bufs[cpu]!.length === 0) throw new Error(`CPU ${cpu} has no store ${entry} that may become visible`);
    this.visible(cpu, this.bufs[cpu]!.shift()!);
  }

  override drainAll(): void {
    for (let c = 0; c < this.bufs.length; c++) this.drain(c);
  }

  override read(cpu: number, addr: number, _order: MemoryOrder, variant: number): number {
    const own = this.bufs[cpu]!.filter((b) => b.addr === addr);
    let value: number;
    let stale: { newest: number; newestStep: number; newestCpu: number } | null = null;
    if (own.length !== 0) value = own[own.length - 1]!.value;
    else if (variant > 0) {
      const h = this.history.get(addr)!;
      const newest = h[h.length - 1]!;
      value = h[h.length - 1 - variant]!.value;
      stale = { newest: newest.value, newestStep: newest.step, newestCpu: newest.cpu };
    } else value = this.machine.words[addr]!;
    if (this.events !== null) this.events.read = { cpu, addr, value, forwarded: own.length !== 0, from: null, stale };
    return value;
  }

  override write(cpu: number, addr: number, value: number, _order: MemoryOrder, variant: number): void {
    const buf = this.bufs[cpu]!;
    const store = { cpu, addr, value, storedAt: this.machine.step, release: false };
    if (variant !== VARIANT_BUFFER && buf.length === 0) {
      this.visible(cpu, store, false);
      return;
    }
    if (buf.length >= STORE_BUFFER_DEPTH) this.visible(cpu, buf.shift()!);
    buf.push(store);
    if (this.events !== null) this.events.buffered = store;
    this.active = true;
  }

  override fence(cpu: number, kind: FenceKind): void {
    if (kind === 'full') this.drain(cpu);
  }

  override beforeSc(cpu: number): void {
    this.drain(cpu);
  }

  override bufferedStore(cpu: number, entry: number): WeakStore {
    const s = this.bufs[cpu]![entry];
    if (s === undefined) throw new Error(`CPU ${cpu} has no buffered store ${entry}`);
    return s;
  }

  override drain(cpu: number): void {
    const buf = this.bufs[cpu]!;
    while (buf.length !== 0) this.visible(cpu, buf.shift()!);
    this.active = this.staleReads || this.bufs.some((b) => b.length !== 0);
  }

  private visible(cpu: number, s: WeakStore, fromBuffer = true): void {
    const words = this.machine.words;
    if (this.staleReads) {
      let h = this.history.get(s.addr);
      if (h === undefined) this.history.set(s.addr, (h = [{ value: words[s.addr]!, step: -1, cpu: -1 }]));
      h.push({ value: s.value, step: s.storedAt, cpu });
    }
    if (fromBuffer && this.events !== null) this.events.visible.push({ ...s, visibleAt: this.machine.step, overtook: [] });
    const old = words[s.addr]!;
    words[s.addr] = s.value;
    if (old !== s.value && this.machine.blocked.length !== 0) this.machine.wake(s.addr);
    if (this.bufs.every((b) => b.length === 0)) this.active = this.staleReads;
  }
}

/** Installs the double on a run's machine (the field is the model the machine was built with). */
export function withDouble(run: ControlledRun, staleReads = false): ControlledRun {
  (run.m as unknown as { weak: WeakMemory }).weak = new TsoDouble(run.m, staleReads);
  return run;
}

/** A controlled run of `scenario` on `rig` with the double as its memory model. */
export function doubleRun(rig: Rig, scenario: Scenario, staleReads = false): ControlledRun {
  return withDouble(new ControlledRun(rig, scenario), staleReads);
}

/** WriteNoFence as the ordering family implements it: announced with its order, performed by the model. */
export function* writeNoFence(k: Kernel, p: number, v: number): Routine<void> {
  yield k.m.atOrdered(OP_WRITE, p, ORDER_PLAIN);
  k.m.writeOrdered(p, v);
}

/** ReadNoFence, likewise. */
export function* readNoFence(k: Kernel, p: number): Routine<number> {
  yield k.m.atOrdered(OP_READ, p, ORDER_PLAIN);
  return k.m.readOrdered(p);
}
