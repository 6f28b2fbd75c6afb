/**
 * The machine as one free-run CPU worker sees it: the same Machine (same
 * IRQL rules, DPC and interrupt delivery, quantum end, bug checks), with its
 * memory and shadow map in SharedArrayBuffers that every CPU worker maps, and
 * every memory operation a real `Atomics` operation on them.
 *
 * Each worker runs the whole scenario setup itself (the pool allocator is
 * deterministic, so every worker gets the same addresses and its own copy of
 * the JS-side kernel tables), but steps only its own logical CPU. Memory
 * allocated while the actors run (e.g. KLOCK_QUEUE_HANDLEs) comes from a
 * region of machine memory private to that CPU, so two CPUs never hand out
 * the same address.
 */
import { ExecContext, type LogicalCpu, type Thread } from '../../machine/cpu.ts';
import { LockOwners, Machine } from '../../machine/machine.ts';
import { Memory, OutOfMachineMemory, Shadow, WORDS_PER_LINE } from '../../machine/memory.ts';
import { OP_SPIN, type Routine } from '../../machine/ops.ts';
import type { Rig } from '../../machine/rig.ts';
import type { FenceKind } from '../../machine/weak-memory.ts';

/** lockOwners that also counts acquisitions (every kernel lock primitive records its owner there). */
export class CountingOwners extends LockOwners {
  acquisitions = 0;
  override set(lock: number, ctx: ExecContext): this {
    this.acquisitions++;
    return super.set(lock, ctx);
  }
}

export class FreeMemory extends Memory {
  /** End of the part allocated by setup (identical on every CPU worker). */
  setupTop = WORDS_PER_LINE;
  /** This CPU's region for allocations while actors run; 0 while setup runs. */
  regionStart = 0;
  regionEnd = 0;

  constructor(size: number, words: Int32Array, shadow: Uint8Array) {
    super(size, words);
    // The shadow map is shared too: a block one CPU allocates at run time (an
    // in-stack queue handle) is touched by another CPU (its predecessor links it).
    (this as unknown as { shadow: Uint8Array }).shadow = shadow;
  }

  /**
   * Clears what this CPU used: the setup part (every worker clears and then
   * rewrites the same words with the same values, so no ordering is needed
   * between workers) and its own run-time region.
   */
  override reset(): void {
    const setupEnd = this.regionStart === 0 ? this.top : this.setupTop;
    this.words.fill(0, 0, setupEnd);
    this.shadow.fill(Shadow.Unallocated, 0, setupEnd);
    if (this.regionStart !== 0 && this.top > this.regionStart) {
      this.words.fill(0, this.regionStart, this.top);
      this.shadow.fill(Shadow.Unallocated, this.regionStart, this.top);
    }
    this.top = WORDS_PER_LINE;
    this.setupTop = WORDS_PER_LINE;
    this.regionStart = 0;
    this.regionEnd = 0;
    if (this.blocks.size !== 0) this.blocks.clear();
  }

  /** After setup: later allocations on this CPU come from its slot of the remaining memory. */
  enterRegion(slot: number, slots: number): void {
    this.setupTop = this.top;
    const base = Math.ceil(this.top / WORDS_PER_LINE) * WORDS_PER_LINE;
    const per = Math.floor((this.size - base) / slots / WORDS_PER_LINE) * WORDS_PER_LINE;
    this.regionStart = base + slot * per;
    this.regionEnd = this.regionStart + per;
    this.top = this.regionStart;
  }

  override alloc(words: number, tag: string, lineAligned = false): number {
    if (this.regionEnd !== 0) {
      const align = lineAligned ? WORDS_PER_LINE : 4;
      const addr = Math.ceil(this.top / align) * align;
      if (addr + Math.max(1, words) > this.regionEnd) {
        throw new OutOfMachineMemory(
          `machine memory exhausted: ${words} words for '${tag}' do not fit in this CPU's share of run-time memory (raise the rig's memoryWords)`,
        );
      }
    }
    return super.alloc(words, tag, lineAligned);
  }
}

/**
 * What a free-run machine asks of the CPU worker that drives it: work for another CPU goes through
 * that CPU's mailbox, the dispatcher lock is a word of shared control memory, and in twin mode
 * work queued on this CPU waits for the next scheduling point.
 */
export interface FreeCpuHost {
  /** True when this CPU runs plain-function twins: a DPC or interrupt runs at the next scheduling point, not at once. */
  readonly twin: boolean;
  /** Work was queued on this CPU between scheduling points (twin mode): the next point must look. */
  prompt(): void;
  /** Queues a DPC object on another CPU (through its mailbox). */
  postDpc(target: LogicalCpu, dpc: number, front: boolean): void;
  /** Readies a waiting thread of another CPU (its worker does it). */
  postReady(t: Thread, status: number): void;
  /** Asks the worker of another CPU to look at one of its threads again (an APC was queued to it). */
  postKick(t: Thread): void;
  lockDispatcher(): void;
  unlockDispatcher(): void;
}

export class FreeMachine extends Machine {
  override readonly lockOwners = new CountingOwners();
  /** Plain writes and read-modify-writes that changed memory: the watchdog's evidence of progress. */
  changes = 0;
  /**
   * Twin mode: kernel and scenario code run as plain functions and call at()
   * where the generator code yields; this is then the CPU's scheduling point.
   */
  point: ((op: number) => void) | null = null;
  /**
   * Scheduling points left before at() must call point(). Most points have
   * nothing to do (no arrival due, nothing queued, no publication due), so the
   * CPU grants a batch and at() only counts it down; whoever queues work on
   * this CPU shortens the batch (FreeCpu.prompt), and spins and waits always
   * call point(). Counting down instead of calling per point is what keeps
   * twins near raw speed.
   */
  pointsLeft = 0;

  /** The logical CPU this worker runs. */
  readonly own: LogicalCpu;

  constructor(rig: Rig, words: Int32Array, shadow: Uint8Array, slot: number, private readonly host: FreeCpuHost) {
    super(rig);
    this.own = this.online[slot]!;
    const memory = new FreeMemory(rig.memoryWords, words, shadow);
    const self = this as unknown as { memory: Memory; words: Int32Array; shadow: Uint8Array };
    self.memory = memory;
    self.words = words;
    self.shadow = shadow;
    this.parksSpins = false;
  }

  // ---- other CPUs are other workers: what concerns them goes to the host ---------------------

  override queueDpc(cpu: LogicalCpu, name: string, dpc: number, start: () => Routine, front = false): void {
    if (cpu !== this.own) this.host.postDpc(cpu, dpc, front);
    else if (this.host.twin) {
      this.enqueueDpc(cpu, name, dpc, start, front);
      this.host.prompt();
    } else super.queueDpc(cpu, name, dpc, start, front);
  }

  override requestInterrupt(cpu: LogicalCpu, name: string, irql: number, start: () => Routine): void {
    if (this.host.twin) {
      this.enqueueInterrupt(cpu, name, irql, start);
      this.host.prompt();
    } else super.requestInterrupt(cpu, name, irql, start);
  }

  override readyThread(t: Thread, status: number): void {
    if (t.cpu === this.own) super.readyThread(t, status);
    else this.host.postReady(t, status);
  }

  override kickThread(t: Thread): void {
    if (t.cpu === this.own) super.kickThread(t);
    else this.host.postKick(t);
  }

  override lockDispatcher(): void {
    this.host.lockDispatcher();
  }

  override unlockDispatcher(): void {
    this.host.unlockDispatcher();
  }

  override runsThread(t: Thread): boolean {
    return t.cpu === this.own;
  }

  get freeMemory(): FreeMemory {
    return this.memory as FreeMemory;
  }

  /**
   * Every CPU worker runs setup at the same time, each after its own power-on reset of the shared
   * memory, so another worker's reset may clear the shadow map under a checked access of this
   * worker's setup for a moment. Setup is the same on every worker (and checked by the controlled
   * engine), so while it runs (no run-time region yet) a shadow miss is not a fault.
   */
  override badAccess(a: number, write: boolean): void {
    if (this.freeMemory.regionStart === 0) return;
    super.badAccess(a, write);
  }

  override at(op: number, addr: number): number {
    // Small enough to inline into every kernel routine; opAddr only matters where point() looks at it.
    // op >= OP_SPIN: spins and waits (PAUSE and kernel points too, which point() takes like any other).
    if (--this.pointsLeft <= 0 || op >= OP_SPIN) this.slowPoint(op, addr);
    return op;
  }

  private slowPoint(op: number, addr: number): void {
    this.opAddr = addr;
    if (this.point !== null) this.point(op);
    // Generator mode: Machine.stepCpu reads opAddr after every yield, so every at() comes here.
    else this.pointsLeft = 0;
  }

  /**
   * Only the IRQL: Machine.setIrql also notes when DISPATCH_LEVEL was entered
   * (for the step-counting DPC watchdog) and that the controlled engine's
   * choices changed; free-run uses neither, and this runs twice per critical section.
   */
  override setIrql(cpu: LogicalCpu, irql: number): void {
    cpu.irql = irql;
  }

  override read(a: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, false);
    return Atomics.load(this.words, a);
  }

  override write(a: number, v: number): void {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    Atomics.store(this.words, a, v);
    this.changes++;
  }

  /**
   * Free-run runs on the host's processors, whose Atomics are sequentially consistent: an
   * ordering-API access is an ordinary atomic access here (free-run explores no store buffering
   * or stale read; on x64 that is a subset of TSO's behaviours).
   */
  override readOrdered(a: number): number {
    return this.read(a);
  }

  override writeOrdered(a: number, v: number): void {
    this.write(a, v);
  }

  /** Atomics are sequentially consistent already: a barrier has nothing to order. */
  override fence(_kind: FenceKind): void {}

  override xchg(a: number, v: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    const old = Atomics.exchange(this.words, a, v);
    if (old !== v) this.changes++;
    return old;
  }

  override cmpxchg(a: number, exchange: number, comparand: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    const old = Atomics.compareExchange(this.words, a, comparand, exchange);
    if (old === comparand && old !== exchange) this.changes++;
    return old;
  }

  override xadd(a: number, delta: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    if (delta !== 0) this.changes++;
    return Atomics.add(this.words, a, delta);
  }

  override xor(a: number, bits: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    if (bits !== 0) this.changes++;
    return Atomics.xor(this.words, a, bits);
  }

  override or(a: number, bits: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    const old = Atomics.or(this.words, a, bits);
    if ((old | bits) !== old) this.changes++;
    return old;
  }

  override and(a: number, bits: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    const old = Atomics.and(this.words, a, bits);
    if ((old & bits) !== old) this.changes++;
    return old;
  }
}
