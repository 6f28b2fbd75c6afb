/**
 * The box: memory, logical CPUs, threads, and the mechanics that Windows
 * puts below every driver — DPC and interrupt delivery by IRQL, quantum end,
 * waits. It knows no primitive (src/kernel/ builds those on it) and no
 * strategy (src/engine/ decides which CPU steps next).
 */
import { BugCheck, ScenarioError } from './bugcheck.ts';
import { ANY_WRITE, empty, ExecContext, LogicalCpu, NOT_BLOCKED, notAnOperation, pendingRoutine, routineNotStarted, Thread, type ContextKind } from './cpu.ts';
import { DISPATCH_LEVEL, PASSIVE_LEVEL, irqlName } from './irql.ts';
import { AddressMap } from './address-map.ts';
import { Memory, formatAddress } from './memory.ts';
import { ORDER_FENCE_BEFORE, ORDER_MASK, ORDER_SC, VARIANT_DEFAULT, WeakMemory, type FenceKind, type MemoryOrder } from './weak-memory.ts';
import { OP_KERNEL, OP_SPIN, OP_WAIT, type Routine } from './ops.ts';
import { activeCpuCount, logicalCpuCount, type Rig } from './rig.ts';
import { SharedKernelMemory, type SharedKernelState } from './shared-state.ts';
import { quote } from './text.ts';

export { KERNEL_SHARED_WORDS } from './shared-state.ts';

/**
 * Identical futile accesses of one word, each the context's very next step
 * after the one before (a PAUSE between them aside), after which a
 * scenario-level loop is treated as a spin-wait.
 */
export const SPIN_READS = 6;

/** An asynchronous event the strategy may fire at any step while it is armed. */
export interface AsyncEvent {
  name: string;
  cpu: number;
  armed: boolean;
  /** Fires the event; returns nothing — effects are on the machine. */
  fire(): void;
}

export interface WaitInfo {
  cpu: number;
  context: string;
  kind: ContextKind;
  irql: number;
  state: string;
  /** Address a spin waits on, if any. */
  address?: number;
  /** The context holding what this one waits for, when known. */
  owner?: string;
}

/**
 * A check a kernel family registers for the end of a run that otherwise
 * passed (e.g. "every IRP marked pending was completed"). Returns null when it
 * holds; it may also throw a BugCheck or InvariantViolation.
 */
export type EndOfRunCheck = () => StuckReport | null;

export interface StuckReport {
  kind: 'deadlock' | 'hang';
  message: string;
  waits: WaitInfo[];
  /** A liveness failure the kernel recognised (an IRP left pending, a rundown that never drains, …). */
  liveness?: LivenessInfo;
}

/** A named liveness failure: its name (src/kernel/liveness.ts lists them) and the step where it went wrong, when known. */
export interface LivenessInfo {
  name: string;
  step?: number;
}

/** Owner of each held lock word (maintained by the kernel's lock primitives). */
export class LockOwners extends AddressMap<ExecContext> {}

export class Machine implements SharedKernelState {
  readonly memory: Memory;
  readonly words: Int32Array;
  readonly shadow: Uint8Array;
  readonly cpus: LogicalCpu[] = [];
  readonly online: LogicalCpu[] = [];
  readonly checked: boolean;
  /** With a UP HAL, spin locks only raise IRQL. */
  readonly mpHal: boolean;
  readonly threads: Thread[] = [];
  readonly events: AsyncEvent[] = [];
  /**
   * Kernel timers that may expire (KTIMER, in the order the run initialized them): `armed` while
   * the timer is set and no other set timer is due before it. The strategy decides when one
   * expires (a 'timer' choice of the schedule string), so a timer's expiry replays.
   */
  readonly timers: AsyncEvent[] = [];
  /** The context being stepped, and its CPU. */
  cur!: ExecContext;
  cpu!: LogicalCpu;
  /** Address of the operation announced by the last yield. */
  opAddr = 0;
  /** Memory order of the operation announced by the last yield (ORDER_SC unless through atOrdered). */
  opOrder: number = ORDER_SC;
  /** The rig's memory model: store buffers and what each CPU may still see. */
  readonly weak: WeakMemory;
  /**
   * How the engine wants the stepping CPU's ordering-API access performed (VARIANT_DEFAULT,
   * VARIANT_BUFFER, or an older value k): set before stepCpu, cleared after.
   */
  variant = VARIANT_DEFAULT;
  /**
   * Set by reset on an arm64 rig: the run's first step tells the memory model that setup is over
   * (what setup wrote is what every CPU sees from the start; see WeakMemory.start).
   */
  private weakStarts = false;

  /**
   * Before a sequentially consistent access or a kernel step of the current CPU (only while the
   * model is active): the CPU's buffered stores become visible, and its later reads see at least
   * everything visible then.
   */
  private scBarrier(): void {
    this.weak.beforeSc(this.cpu.index);
  }
  /** Global step counter of the current run. */
  step = 0;
  /**
   * Set whenever the set of things that could step next may have changed (a
   * context blocked, woke, was pushed or finished; a thread became ready or
   * waiting; on a CPU with a ready thread, IRQL crossed DISPATCH_LEVEL or the
   * running thread took its first step). The controlled engine re-enumerates
   * its choices only then: most steps change none of it.
   */
  stale = true;
  /**
   * Set by a step that changed no shared state and observed nothing new — a
   * repeated futile read, a PAUSE, a wait satisfied at once with no side
   * effect. The controlled engine reads and clears it after every step: such
   * a step is a yield, and fair scheduling lets the others go first.
   */
  yielded = false;
  /** Contexts currently blocked in a spin. */
  readonly blocked: ExecContext[] = [];
  /** Contexts not yet finished (threads, DPCs and ISRs). */
  live = 0;
  /** Owner of each held lock word, for diagnosis (maintained by the kernel's lock primitives). */
  readonly lockOwners = new LockOwners();
  /** End-of-run checks kernel families registered for this run (cleared by reset). */
  readonly endOfRunChecks: EndOfRunCheck[] = [];
  /** Names of objects by address (from the scenario's setup state). */
  readonly names = new AddressMap<string>();
  /**
   * Spin-waits sleep until their word changes (exploration: a spin nobody
   * ends is a recognisable deadlock, and no steps are burnt on it). The timed
   * mode turns this off, so every PAUSE and re-read costs cycles as on hardware.
   */
  spinBlocking = true;
  /** Called on every step a context performs (trace recording, cost model). Null when nobody listens. */
  onStep: ((ctx: ExecContext, op: number, addr: number) => void) | null = null;
  private nextContextId = 0;

  constructor(readonly rig: Rig) {
    this.memory = new Memory(rig.memoryWords);
    this.words = this.memory.words;
    this.shadow = this.memory.shadow;
    this.weak = new WeakMemory(rig.arch, logicalCpuCount(rig), this.words, (a) => {
      if (this.blocked.length !== 0) this.wake(a);
    }, this);
    this.checked = rig.build === 'checked';
    this.mpHal = rig.hal === 'mp';
    const active = activeCpuCount(rig);
    for (let i = 0; i < logicalCpuCount(rig); i++) {
      const cpu = new LogicalCpu(i, Math.floor(i / rig.threadsPerCore), i < active);
      this.cpus.push(cpu);
      if (cpu.online) this.online.push(cpu);
    }
  }

  /** Back to power-on: empty memory, idle CPUs, no threads. (Maps are cleared only when non-empty: clear() allocates.) */
  reset(): void {
    this.memory.reset();
    this.weak.reset();
    this.weakStarts = this.rig.arch === 'arm64';
    for (const c of this.cpus) c.reset();
    empty(this.threads);
    empty(this.events);
    empty(this.timers);
    empty(this.endOfRunChecks);
    empty(this.blocked);
    if (this.guessed.size !== 0) this.guessed.clear();
    this.live = 0;
    this.step = 0;
    this.stale = true;
    this.yielded = false;
    this.lockOwners.clear();
    this.names.clear();
    this.nextContextId = 0;
    this.contextsInRun = 0;
  }

  /** Maps a CPU number from a scenario onto the CPUs this rig runs (actors fold onto fewer CPUs). */
  cpuFor(requested: number): LogicalCpu {
    return this.online[requested % this.online.length]!;
  }

  at(op: number, addr: number): number {
    this.opAddr = addr;
    if (this.captureSites) this.site = new Error().stack ?? '';
    return op;
  }

  /** When true (trace recording), each yield records its call stack so a step can name its source line. */
  captureSites = false;
  /** Stack captured by the last at() while captureSites is on. */
  site = '';

  // ---- memory: every access is checked against the pool's shadow map -------------------------

  // Kernel-internal and interlocked accesses are sequentially consistent and a full barrier for
  // their CPU (weak-memory.ts says why); the memory model is told only while it has work to do.

  read(a: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, false);
    if (this.weak.active) this.scBarrier();
    return this.words[a]!;
  }

  write(a: number, v: number): void {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    if (this.weak.active) this.scBarrier();
    const old = this.words[a]!;
    this.words[a] = v;
    if (this.weak.active) this.weak.afterScWrite(a, v, old);
    if (old !== v && this.blocked.length !== 0) this.wake(a);
  }

  xchg(a: number, v: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    if (this.weak.active) this.scBarrier();
    const old = this.words[a]!;
    this.words[a] = v;
    if (this.weak.active) this.weak.afterScWrite(a, v, old);
    if (old !== v && this.blocked.length !== 0) this.wake(a);
    return old;
  }

  cmpxchg(a: number, exchange: number, comparand: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    if (this.weak.active) this.scBarrier();
    const old = this.words[a]!;
    if (old === comparand) {
      this.words[a] = exchange;
      if (this.weak.active) this.weak.afterScWrite(a, exchange, old);
      if (old !== exchange && this.blocked.length !== 0) this.wake(a);
    }
    return old;
  }

  /** Interlocked add; returns the value before the add. */
  xadd(a: number, delta: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    if (this.weak.active) this.scBarrier();
    const old = this.words[a]!;
    const v = (old + delta) | 0;
    this.words[a] = v;
    if (this.weak.active) this.weak.afterScWrite(a, v, old);
    if (v !== old && this.blocked.length !== 0) this.wake(a);
    return old;
  }

  xor(a: number, bits: number): number {
    return this.rmwBits(a, this.words[a]! ^ bits);
  }
  or(a: number, bits: number): number {
    return this.rmwBits(a, this.words[a]! | bits);
  }
  and(a: number, bits: number): number {
    return this.rmwBits(a, this.words[a]! & bits);
  }

  private rmwBits(a: number, v: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    if (this.weak.active) this.scBarrier();
    const old = this.words[a]!;
    this.words[a] = v;
    if (this.weak.active) this.weak.afterScWrite(a, v, old);
    if (v !== old && this.blocked.length !== 0) this.wake(a);
    return old;
  }

  // ---- ordering-API accesses: the rig's memory model decides what they see ----------------------

  /**
   * Like at(), for an access through Windows' ordering APIs: the engine may offer variants of it
   * (a buffered store, an older value). `racebox fences` strengthens an access here (orderHook).
   */
  atOrdered(op: number, addr: number, order: MemoryOrder): number {
    this.opOrder = this.orderHook === null ? order : this.orderHook(op, order);
    return this.at(op, addr);
  }

  /**
   * Set by the fence search only: gives an ordering-API access announced by atOrdered a stronger
   * order, or ORDER_FENCE_BEFORE with it for a full barrier just before the access.
   */
  orderHook: ((op: number, order: MemoryOrder) => number) | null = null;

  /** ReadNoFence, ReadAcquire, … (announced by atOrdered): what the model lets this CPU see. */
  readOrdered(a: number): number {
    if (this.shadow[a] !== 1) this.badAccess(a, false);
    const o = this.cur.order;
    if ((o & ORDER_FENCE_BEFORE) !== 0) this.weak.fence(this.cpu.index, 'full');
    return this.weak.read(this.cpu.index, a, (o & ORDER_MASK) as MemoryOrder, this.variant);
  }

  /** WriteNoFence, WriteRelease, … (announced by atOrdered): buffered or visible at once, as the engine picked. */
  writeOrdered(a: number, v: number): void {
    if (this.shadow[a] !== 1) this.badAccess(a, true);
    const o = this.cur.order;
    if ((o & ORDER_FENCE_BEFORE) !== 0) this.weak.fence(this.cpu.index, 'full');
    this.weak.write(this.cpu.index, a, v, (o & ORDER_MASK) as MemoryOrder, this.variant);
  }

  /** A hardware barrier on the current CPU (KeMemoryBarrier, MemoryBarrier, __dmb). */
  fence(kind: FenceKind): void {
    this.weak.fence(this.cpu.index, kind);
  }

  /**
   * An access to a word that is not allocated, or was freed. Unallocated memory
   * always faults. Freed memory faults at once on a checked build (special
   * pool); on a free build the access goes through to the poisoned words, as in
   * the field, and the damage shows up later.
   */
  badAccess(a: number, write: boolean): void {
    // Not a number at all (NaN, undefined, an object): the scenario passed something that is not an address.
    if (!Number.isInteger(a)) throw new ScenarioError(notAnAddress(a, this.cpu?.top?.apiStack));
    const irql = this.cpu.irql;
    if (a >= 0 && a < this.memory.size && this.shadow[a] === 2) {
      if (!this.checked) return;
      throw new BugCheck(0xd5, a * 4, write ? 1 : 0, 0, 0, `${this.describeAddress(a)} touched after it was freed`);
    }
    if (a >= 0 && a < this.memory.size && this.shadow[a] === 3) throw this.beyondAllocation(a, write);
    if (irql >= DISPATCH_LEVEL) {
      throw new BugCheck(0xd1, a * 4, irql, write ? 1 : 0, 0, `invalid address ${formatAddress(a)} at ${irqlName(irql)}`);
    }
    throw new BugCheck(0x50, a * 4, write ? 1 : 0, 0, 0, `invalid address ${formatAddress(a)}`);
  }

  /**
   * Special pool (checked build): a guard word next to a driver's allocation was touched —
   * DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION (0xD6): the address, read (0) or write (1), the
   * address of the instruction (not known here: 0), reserved.
   */
  private beyondAllocation(a: number, write: boolean): BugCheck {
    const g = this.memory.guarded(a);
    const what = write ? 'written' : 'read';
    let detail = `${formatAddress(a)} ${what} in a special-pool guard`;
    if (g) {
      const b = g.block;
      const name = this.names.get(b.addr) ?? `'${b.tag}' block`;
      const state = b.freed ? ' (already freed)' : '';
      detail = g.beyond
        ? `${formatAddress(a)} ${what}: offset 0x${((a - b.addr) * 4).toString(16)} of ${name} at ${formatAddress(b.addr)}, beyond the end of its ${b.words * 4}-byte allocation${state}`
        : `${formatAddress(a)} ${what}: ${g.bytes} bytes before the start of ${name} at ${formatAddress(b.addr)}, a ${b.words * 4}-byte allocation${state}`;
    }
    return new BugCheck(0xd6, a * 4, write ? 1 : 0, 0, 0, detail);
  }

  describeAddress(a: number): string {
    const b = this.memory.blockAt(a);
    if (!b) return formatAddress(a);
    const name = this.names.get(b.addr) ?? b.tag;
    const off = a - b.addr;
    return `${name}${off ? `+0x${(off * 4).toString(16)}` : ''} (${formatAddress(a)})`;
  }

  nameOf(a: number): string {
    return this.names.get(a) ?? this.describeAddress(a);
  }

  // ---- spin-waits -----------------------------------------------------------------------------

  /** Readies the contexts spinning (OP_SPIN) on `a`: for a kernel write that bypasses write(). */
  wake(a: number): void {
    const b = this.blocked;
    for (let i = b.length - 1; i >= 0; i--) {
      const c = b[i]!;
      if (c.blockedOn === a || c.blockedOn === ANY_WRITE) {
        c.blockedOn = NOT_BLOCKED;
        c.futile = 0;
        this.stale = true;
        if (this.guessed.size !== 0) this.guessed.delete(c);
        b[i] = b[b.length - 1]!;
        b.pop();
      }
    }
  }

  /**
   * Scenario code that re-reads one word and sees the same value again and
   * again is spinning: after SPIN_READS identical futile accesses the caller
   * yields OP_SPIN and sleeps until the word is written. Returns true when the
   * caller should do so.
   *
   * Parking a context must not change what the program can do, so the guess
   * is only made when the loop provably repeats the identical access with
   * nothing in between: each futile access must be the context's very next
   * step after the previous one (a PAUSE aside, see notePause). A loop that
   * does anything else between its reads — takes and drops a lock, waits,
   * signals — is never parked (it could be about to release what another
   * processor needs); fair scheduling keeps it from starving the others.
   */
  noteFutile(a: number, op: number, value: number, changed: boolean): boolean {
    // Kept small (the rare paths are calls): it runs on every read, and free-run inlines it.
    const c = this.cur;
    const key = a * 16 + op;
    if (changed || c.futileKey !== key || c.futileVal !== value) return this.futileFresh(c, key, value, changed);
    // A spin lock taken since the last read and still held is progress, not a poll: the re-check under the
    // lock of double-checked locking. As a yield, fair scheduling would make every other CPU step before
    // the initialiser goes on — each reads the pointer still NULL — and hide the fast-path race.
    if (c.heldLocks.length > c.futileLocks) return this.futileFresh(c, key, value, false);
    this.yielded = true;
    if (this.parksSpins) {
      if (c.steps !== c.futileAt + 1) return this.futileFresh(c, key, value, false);
      c.futileAt = c.steps;
    }
    return ++c.futile >= SPIN_READS && this.futileSpin(c);
  }

  /**
   * True where OP_SPIN really puts a context to sleep (the controlled engine),
   * so a guess needs the tight-loop proof above. Free-run runs OP_SPIN as a
   * PAUSE — nothing parks, so nothing needs proving — and steps twin code
   * without counting steps per context.
   */
  parksSpins = true;

  private futileFresh(c: ExecContext, key: number, value: number, changed: boolean): false {
    c.futileKey = key;
    c.futileVal = value;
    c.futileAt = c.steps;
    c.futileLocks = c.heldLocks.length;
    c.futile = changed ? 0 : 1;
    return false;
  }

  /**
   * A PAUSE (YieldProcessor, a stall): a yield for fair scheduling. Right
   * after a futile access it does not count as something in between, so
   * `while (*p == 0) YieldProcessor();` is still a tight spin.
   */
  notePause(): void {
    this.yielded = true;
    const c = this.cur;
    if (c.futileAt === c.steps - 1) c.futileAt = c.steps;
  }

  private futileSpin(c: ExecContext): boolean {
    if (!this.spinBlocking) return false;
    // The OP_SPIN step the caller takes next is no step in between.
    c.futileAt = c.steps + 1;
    this.guessed.add(c);
    return true;
  }

  /**
   * Contexts put to sleep by the futile-read guess above, not by a kernel spin.
   * A guess is never the reason a run is reported stuck: when nothing else can
   * run, every guessed spinner is resumed and the run goes on (a loop that
   * polls a bounded number of times, with its counter in a local, then
   * finishes). One that re-parks again and again is ended by the step or DPC
   * watchdog, which the engine then reports as the stuck state it is.
   */
  private readonly guessed = new Set<ExecContext>();

  /** Wakes every guessed spinner (nothing else can run); false when there was none. */
  resumeGuessedSpins(): boolean {
    if (this.guessed.size === 0) return false;
    for (let i = this.blocked.length - 1; i >= 0; i--) {
      const c = this.blocked[i]!;
      if (!this.guessed.has(c)) continue;
      c.spinRetries++;
      c.blockedOn = NOT_BLOCKED;
      c.futile = 0;
      this.blocked[i] = this.blocked[this.blocked.length - 1]!;
      this.blocked.pop();
    }
    this.guessed.clear();
    this.stale = true;
    return true;
  }

  // ---- contexts, threads, delivery ------------------------------------------------------------

  createThread(name: string, cpu: LogicalCpu, startIrql: number, routine: Routine): Thread {
    // Creating a thread is a full barrier for the creator: the new thread sees what it wrote before.
    if (this.weak.active) this.weak.switchContext(this.cpu.index);
    const kthread = this.memory.alloc(16, 'KTHREAD', true);
    this.names.set(kthread, name);
    const id = this.threads.length;
    const t = id < this.threadPool.length ? this.threadPool[id]!.reuse(id, name, cpu, startIrql, kthread) : this.newThread(id, name, cpu, startIrql, kthread);
    t.ctx = this.newContext('thread', name, routine, cpu, t);
    this.threads.push(t);
    this.live++;
    this.stale = true;
    cpu.ready.push(t);
    if (cpu.thread === null) this.dispatchNext(cpu);
    return t;
  }

  /**
   * Threads made since the machine was built, by id: a run's thread i reuses
   * the object of thread i of the runs before (nothing refers to it past the
   * reset that ends its run).
   */
  private readonly threadPool: Thread[] = [];

  private newThread(id: number, name: string, cpu: LogicalCpu, startIrql: number, kthread: number): Thread {
    const t = new Thread(id, name, cpu, startIrql, kthread);
    this.threadPool.push(t);
    return t;
  }

  /**
   * Contexts made since the machine was built; the first contextsInRun belong to
   * the current run, the rest to earlier runs and are handed out again (nothing
   * refers to a context past the reset that ends its run).
   */
  private readonly contexts: ExecContext[] = [];
  private contextsInRun = 0;

  private newContext(kind: ContextKind, name: string, gen: Routine, cpu: LogicalCpu, thread: Thread | null): ExecContext {
    const id = this.nextContextId++;
    if (this.contextsInRun < this.contexts.length) return this.contexts[this.contextsInRun++]!.reuse(id, kind, name, gen, cpu, thread);
    const ctx = new ExecContext(id, kind, name, gen, cpu, thread);
    this.contexts.push(ctx);
    this.contextsInRun++;
    return ctx;
  }

  /** Puts the next ready thread on an idle CPU (only ever at IRQL below DISPATCH_LEVEL). */
  private dispatchNext(cpu: LogicalCpu): void {
    this.stale = true;
    const t = cpu.ready.shift();
    if (!t) {
      cpu.thread = null;
      if (cpu.stack.length === 0) cpu.irql = PASSIVE_LEVEL;
      return;
    }
    // Switching a thread in is a full barrier too: a wait it returns from has acquire semantics on
    // Windows (what the waker wrote before it signalled is visible to the thread that resumes).
    if (this.weak.active) this.weak.switchContext(cpu.index);
    t.state = 'running';
    cpu.thread = t;
    // The thread goes under any DPC or ISR; mostly the stack is empty, and push() is inline where unshift() is not.
    if (cpu.stack.length === 0) cpu.stack.push(t.ctx);
    else cpu.stack.unshift(t.ctx);
    cpu.irql = t.irql;
    cpu.sinceDispatch = 0;
    cpu.contextSwitches++;
  }

  /** Quantum end: the running thread goes to the back of the ready queue. */
  quantumEnd(cpu: LogicalCpu): void {
    if (this.weak.active) this.weak.switchContext(cpu.index);
    const t = cpu.thread!;
    t.irql = cpu.irql;
    t.state = 'ready';
    removeBottom(cpu.stack);
    cpu.ready.push(t);
    cpu.thread = null;
    this.dispatchNext(cpu);
    this.deliver(cpu);
  }

  /** True when quantum end on this CPU is a choice worth offering: it lets some other ready thread progress. */
  canEndQuantum(cpu: LogicalCpu): boolean {
    if (cpu.ready.length === 0 || cpu.stack.length !== 1 || cpu.irql >= DISPATCH_LEVEL) return false;
    const top = cpu.stack[0]!;
    if (cpu.sinceDispatch === 0 && top.blockedOn === NOT_BLOCKED) return false;
    for (const t of cpu.ready) if (t.ctx.blockedOn === NOT_BLOCKED) return true;
    return false;
  }

  /** Queues a DPC on a CPU; it runs as soon as that CPU is below DISPATCH_LEVEL (at once if it already is). */
  queueDpc(cpu: LogicalCpu, name: string, dpc: number, start: () => Routine, front = false): void {
    this.enqueueDpc(cpu, name, dpc, start, front);
    this.deliver(cpu);
  }

  /** Puts a DPC on a CPU's queue without delivering it. */
  protected enqueueDpc(cpu: LogicalCpu, name: string, dpc: number, start: () => Routine, front: boolean): void {
    if (front) cpu.dpcQueue.unshift({ name, dpc, start });
    else cpu.dpcQueue.push({ name, dpc, start });
    this.live++;
  }

  requestInterrupt(cpu: LogicalCpu, name: string, irql: number, start: () => Routine): void {
    this.enqueueInterrupt(cpu, name, irql, start);
    this.deliver(cpu);
  }

  /** Makes an interrupt pending on a CPU without delivering it. */
  protected enqueueInterrupt(cpu: LogicalCpu, name: string, irql: number, start: () => Routine): void {
    cpu.interrupts.push({ name, irql, start });
    this.live++;
  }

  /** Interrupts above the CPU's IRQL, then DPCs once it is below DISPATCH_LEVEL: the next one becomes the CPU's top context. */
  deliver(cpu: LogicalCpu): void {
    const start = this.beginDelivery(cpu);
    if (start !== null) cpu.stack[cpu.stack.length - 1]!.gen = start();
  }

  /**
   * Takes the next deliverable interrupt (above the CPU's IRQL) or DPC (the CPU below
   * DISPATCH_LEVEL) off the CPU's queues and pushes a context for it at its IRQL; returns what
   * starts its routine, or null when nothing is deliverable. The stepping engine makes the new top
   * context's generator with it (deliver); free-run's plain-function twins run the routine to its
   * end and then call endNested.
   */
  beginDelivery(cpu: LogicalCpu): (() => Routine) | null {
    if (cpu.interrupts.length !== 0) {
      const irq = cpu.takeDeliverableInterrupt();
      if (irq) {
        const ctx = this.newContext('isr', irq.name, IDLE, cpu, cpu.thread);
        this.live--; // the pending request becomes a context, counted below
        this.pushContext(cpu, ctx, irq.irql);
        cpu.interruptsTaken++;
        return irq.start;
      }
    }
    if (cpu.dpcQueue.length !== 0 && cpu.irql < DISPATCH_LEVEL) {
      const d = cpu.dpcQueue.shift()!;
      this.live--;
      const ctx = this.newContext('dpc', d.name, IDLE, cpu, cpu.thread);
      this.pushContext(cpu, ctx, DISPATCH_LEVEL);
      cpu.dpcsRun++;
      return d.start;
    }
    return null;
  }

  private pushContext(cpu: LogicalCpu, ctx: ExecContext, irql: number): void {
    if (this.weak.active) this.weak.switchContext(cpu.index);
    ctx.savedIrql = cpu.irql;
    cpu.stack.push(ctx);
    this.stale = true;
    this.live++;
    this.setIrql(cpu, irql);
  }

  setIrql(cpu: LogicalCpu, irql: number): void {
    // Crossing DISPATCH_LEVEL changes the choices only through quantum end, which needs a ready
    // thread: with none, nothing is stale (making one ready marks the machine stale anyway).
    if (irql >= DISPATCH_LEVEL) {
      if (cpu.irql < DISPATCH_LEVEL) {
        cpu.raisedAt = this.step;
        if (cpu.ready.length !== 0) this.stale = true;
      }
    } else {
      if (cpu.irql >= DISPATCH_LEVEL && cpu.ready.length !== 0) this.stale = true;
      cpu.raisedAt = -1;
    }
    cpu.irql = irql;
  }

  /** Executes one step of the top context of a CPU. */
  stepCpu(cpu: LogicalCpu): void {
    const ctx = cpu.stack[cpu.stack.length - 1]!;
    this.cur = ctx;
    this.cpu = cpu;
    if (this.weakStarts) {
      this.weakStarts = false;
      this.weak.start();
    }
    if (this.onStep !== null) this.onStep(ctx, ctx.op, ctx.opAddr);
    // Kernel bookkeeping kept outside machine words (dispatcher objects, ERESOURCEs, waits) is a
    // full barrier too, as every kernel routine is here (weak-memory.ts): KeSetEvent publishes
    // what its caller stored before it.
    if (this.weak.active && (ctx.op === OP_KERNEL || ctx.op === OP_WAIT)) this.scBarrier();
    ctx.steps++;
    cpu.steps++;
    const r = ctx.gen.next();
    if (pendingRoutine.call !== null) throw routineNotStarted(ctx);
    if (r.done) {
      this.finish(cpu, ctx);
    } else {
      const op = r.value;
      if (typeof op !== 'number' || op >>> 0 > OP_WAIT) throw notAnOperation(ctx, op);
      ctx.op = op;
      ctx.opAddr = this.opAddr;
      ctx.order = this.opOrder;
      this.opOrder = ORDER_SC;
      if (this.captureSites) ctx.site = this.site;
      if (op === OP_SPIN && this.spinBlocking) {
        ctx.blockedOn = this.opAddr;
        this.blocked.push(ctx);
        this.stale = true;
      } else if (op === OP_WAIT) {
        this.switchOutWaiter(cpu, ctx);
        return;
      }
      if (cpu.thread !== null && cpu.stack.length === 1 && cpu.irql < DISPATCH_LEVEL) {
        // The first step makes quantum end a choice (see canEndQuantum) when another thread is ready.
        if (cpu.sinceDispatch === 0 && cpu.ready.length !== 0) this.stale = true;
        if (++cpu.sinceDispatch >= this.rig.quantum && cpu.ready.length !== 0) {
          this.quantumEnd(cpu);
          return;
        }
      }
    }
    if (cpu.interrupts.length !== 0 || cpu.dpcQueue.length !== 0) this.deliver(cpu);
  }

  /** A thread yielded OP_WAIT: the kernel already marked it waiting; take it off the CPU. */
  private switchOutWaiter(cpu: LogicalCpu, ctx: ExecContext): void {
    const t = this.checkCanWait(ctx);
    if (this.weak.active) this.weak.switchContext(cpu.index);
    t.irql = cpu.irql;
    removeBottom(cpu.stack);
    cpu.thread = null;
    this.dispatchNext(cpu);
    this.deliver(cpu);
  }

  /**
   * A context is about to wait (it yielded OP_WAIT): only a thread running alone on its CPU can
   * (ATTEMPTED_SWITCH_FROM_DPC, 0xB8, for a DPC, an ISR, or a thread under one). Returns the thread.
   */
  checkCanWait(ctx: ExecContext): Thread {
    const t = ctx.thread;
    if (!t || ctx.kind !== 'thread' || ctx.cpu.stack.length !== 1) {
      throw new BugCheck(0xb8, t?.kthread ?? 0, 0, 0, 0, `${ctx.kind} '${ctx.name}' tried to wait`);
    }
    return t;
  }

  // ---- kernel state every processor shares -------------------------------------------------------

  /**
   * Kernel-global memory shared by every processor (wait sequence, owner tables). The controlled
   * engine keeps it here; free-run attaches it to shared control memory so that every CPU worker
   * sees one copy. Kernel.reset clears it.
   */
  readonly kernelShared = new SharedKernelMemory();

  /**
   * The dispatcher lock. A kernel state change that spans several words is atomic in the
   * controlled engine because it happens within one step; free-run serializes it between CPU
   * workers with a real lock here. Held only within a step (never across a yield); nests.
   */
  lockDispatcher(): void {}
  unlockDispatcher(): void {}

  /** False in free-run for a thread another CPU worker runs: its JS-side state is not this worker's to change. */
  runsThread(_t: Thread): boolean {
    return true;
  }

  /**
   * Asks the processor that runs `t` to look at it again (an APC was queued to it). Free-run
   * forwards this to the CPU worker that runs `t`, which calls onThreadKick between two of its
   * steps; the controlled engine never needs to (the kernel looks within the same step).
   */
  kickThread(t: Thread): void {
    if (this.onThreadKick !== null) this.onThreadKick(t);
  }
  /** What the kernel does when its processor is asked to look at one of its threads (set by the kernel). */
  onThreadKick: ((t: Thread) => void) | null = null;

  /** Makes a waiting thread ready again (it runs when its CPU next dispatches). */
  readyThread(t: Thread, status: number): void {
    if (t.state !== 'waiting') return;
    this.stale = true;
    t.state = 'ready';
    t.waitStatus = status;
    t.waitReason = '';
    t.waitOwner = null;
    t.cpu.ready.push(t);
    if (t.cpu.thread === null && t.cpu.stack.length === 0) this.dispatchNext(t.cpu);
  }

  /**
   * Takes a thread that is ready, or running alone on its CPU, off the processor and marks it
   * waiting for `reason` (e.g. suspended by an APC). False when it is in neither state.
   * readyThread makes it runnable again; it resumes at the operation it had announced.
   */
  blockThread(t: Thread, reason: string): boolean {
    const cpu = t.cpu;
    this.stale = true;
    if (t.state === 'ready') {
      const i = cpu.ready.indexOf(t);
      if (i < 0) return false;
      cpu.ready.splice(i, 1);
    } else if (t.state === 'running' && cpu.thread === t && cpu.stack.length === 1 && cpu.stack[0] !== this.cur) {
      if (this.weak.active) this.weak.switchContext(cpu.index);
      t.irql = cpu.irql;
      removeBottom(cpu.stack);
      cpu.thread = null;
      this.dispatchNext(cpu);
      this.deliver(cpu);
    } else return false;
    t.state = 'waiting';
    t.waitReason = reason;
    return true;
  }

  private finish(cpu: LogicalCpu, ctx: ExecContext): void {
    // A context's stores do not outlive it: Windows' exit paths are full barriers, so whatever
    // observes the end (KeFlushQueuedDpcs, a wait, an unload) sees what the context stored. This
    // happens in the step of the context's last access: a litmus thread that must leave a store
    // buffered past its last access ends with a step of its own (engine/litmus/run.ts).
    if (this.weak.active) this.weak.switchContext(cpu.index);
    if (ctx.kind === 'thread') this.endThread(ctx.thread!);
    else this.endNested(ctx);
    this.deliver(cpu);
  }

  /**
   * A thread's routine returned: the checks Windows makes when a thread leaves a system service
   * (IRQL_GT_ZERO_AT_SYSTEM_SERVICE 0x4A: it returns above PASSIVE_LEVEL; APC_INDEX_MISMATCH 0x1:
   * a critical or guarded region, or a mutex, is still entered), then the thread leaves its CPU.
   * The IRQL checked is the thread's own, not the CPU's: a DPC it queued to its own CPU as its
   * last act runs above it, at DISPATCH_LEVEL. Delivery of what is pending is the caller's.
   */
  endThread(t: Thread): void {
    const ctx = t.ctx;
    const cpu = t.cpu;
    ctx.finished = true;
    this.stale = true;
    this.live--;
    const irql = this.threadIrql(t);
    if (irql !== t.startIrql && t.startIrql === PASSIVE_LEVEL) {
      throw new BugCheck(
        0x4a, 0, irql, 0, 0,
        `thread '${t.name}' returned at ${irqlName(irql)} (a lock or KeRaiseIrql was never undone)`,
      );
    }
    if (t.kernelApcDisable !== 0 || t.specialApcDisable !== 0) {
      const combined = ((t.specialApcDisable & 0xffff) << 16) | (t.kernelApcDisable & 0xffff);
      throw new BugCheck(
        0x01, 0, 0, combined, 1,
        `thread '${t.name}' returned with APC disable counts kernel ${t.kernelApcDisable}, special ${t.specialApcDisable} (an unbalanced critical or guarded region, or a mutex still held)`,
      );
    }
    t.state = 'terminated';
    t.irql = irql;
    removeBottom(cpu.stack);
    cpu.thread = null;
    // Under a DPC or ISR the next thread is dispatched when that returns (endNested).
    if (cpu.stack.length === 0) this.dispatchNext(cpu);
  }

  /** The IRQL a thread runs at: its CPU's when it executes, else what the DPC or ISR above it saved. */
  threadIrql(t: Thread): number {
    const stack = t.cpu.stack;
    const i = stack.indexOf(t.ctx);
    if (i < 0) return t.irql;
    return i === stack.length - 1 ? t.cpu.irql : stack[i + 1]!.savedIrql;
  }

  /**
   * A DPC or ISR returned: a DPC must return at DISPATCH_LEVEL (IRQL_UNEXPECTED_VALUE 0xC8); the
   * CPU goes back to the IRQL it interrupted. Delivery of what is pending is the caller's.
   */
  endNested(ctx: ExecContext): void {
    const cpu = ctx.cpu;
    ctx.finished = true;
    this.stale = true;
    this.live--;
    if (ctx.kind === 'dpc' && cpu.irql !== DISPATCH_LEVEL) {
      throw new BugCheck(
        0xc8, (cpu.irql << 16) | (DISPATCH_LEVEL << 8), 0, 0, 0,
        `DPC '${ctx.name}' returned at ${irqlName(cpu.irql)}; a DPC must return at DISPATCH_LEVEL`,
      );
    }
    cpu.stack.pop();
    this.setIrql(cpu, ctx.savedIrql);
    // A DPC or ISR that ran on an idle processor (or above a thread that ended) may have readied a thread for it.
    if (cpu.stack.length === 0 && cpu.ready.length !== 0) this.dispatchNext(cpu);
  }

  // ---- diagnosis -------------------------------------------------------------------------------

  /** Contexts that have not finished, with what each is doing. */
  waits(): WaitInfo[] {
    const out: WaitInfo[] = [];
    for (const cpu of this.online) {
      for (let i = cpu.stack.length - 1; i >= 0; i--) {
        const ctx = cpu.stack[i]!;
        const top = i === cpu.stack.length - 1;
        const irql = top ? cpu.irql : cpu.stack[i + 1]!.savedIrql;
        let state: string;
        let owner: string | undefined;
        let address: number | undefined;
        if (ctx.blockedOn !== NOT_BLOCKED) {
          address = ctx.blockedOn >= 0 ? ctx.blockedOn : undefined;
          const o = address !== undefined ? this.lockOwners.get(address) : undefined;
          owner = o ? `${o.kind} '${o.name}' on CPU ${o.cpu.index}` : undefined;
          state = `spins on ${address !== undefined ? this.nameOf(address) : 'memory'}${owner ? `, held by ${o === ctx ? 'itself' : owner}` : ''}`;
          if (!top) state += ` (and is preempted by ${cpu.top!.kind} '${cpu.top!.name}')`;
        } else if (!top) {
          state = `preempted by ${cpu.top!.kind} '${cpu.top!.name}' on the same CPU`;
        } else {
          state = 'runnable';
        }
        out.push({ cpu: cpu.index, context: ctx.name, kind: ctx.kind, irql, state, address, owner });
      }
      for (const t of cpu.ready) {
        out.push({ cpu: cpu.index, context: t.name, kind: 'thread', irql: t.irql, state: `ready, but CPU ${cpu.index} is busy${cpu.top ? ` with ${cpu.top.kind} '${cpu.top.name}'` : ''}` });
      }
    }
    for (const t of this.threads) {
      if (t.state === 'waiting') {
        const o = t.waitOwner;
        out.push({
          cpu: t.cpu.index, context: t.name, kind: 'thread', irql: t.irql,
          state: `waits for ${t.waitReason || 'an object'}${o ? `, held by ${o === t ? 'itself' : `thread '${o.name}'`}` : ''}`,
          ...(o ? { owner: `thread '${o.name}'` } : {}),
        });
      }
    }
    return out;
  }

  /** Nothing can run but work remains: a deadlock among several contexts, or one context stuck on itself. */
  diagnoseStuck(): StuckReport {
    const waits = this.waits();
    // A context stuck on a lock it holds itself (or alone) is a hang — whoever waits behind it is collateral;
    // contexts waiting on each other are a deadlock.
    const selfOnly =
      waits.length === 1 ||
      this.blocked.some((c) => c.blockedOn >= 0 && this.lockOwners.get(c.blockedOn) === c) ||
      this.threads.some((t) => t.state === 'waiting' && t.waitOwner === t);
    const raised = this.online.find((c) => c.irql >= DISPATCH_LEVEL && c.top !== undefined && c.top.blockedOn !== NOT_BLOCKED);
    const lines = waits.map((w) => `CPU ${w.cpu}: ${w.kind} '${w.context}' at ${irqlName(w.irql)} ${w.state}`);
    let message: string;
    if (selfOnly) {
      message = `hang: ${lines.join('; ')}`;
    } else {
      message = `deadlock: no processor can make progress — ${lines.join('; ')}`;
    }
    if (raised && !this.checked) {
      message += `. In the field: DPC_WATCHDOG_VIOLATION (0x133, parameter 1 = 1) — CPU ${raised.index} never leaves ${irqlName(raised.irql)}`;
    }
    return { kind: selfOnly ? 'hang' : 'deadlock', message, waits };
  }

  /** A CPU spinning at DISPATCH_LEVEL or above for longer than the DPC watchdog allows. */
  dpcWatchdogExpired(): LogicalCpu | undefined {
    const limit = this.rig.watchdog.dpcTimeoutSteps;
    for (const cpu of this.online) {
      if (cpu.raisedAt >= 0 && this.step - cpu.raisedAt > limit) return cpu;
    }
    return undefined;
  }
}

function* idle(): Routine<void> {}
/** Generator of a delivered context until its routine is started (see Machine.beginDelivery). */
const IDLE: Routine<void> = idle();

/** Takes the thread off the bottom of a CPU's context stack (pop() when it is alone there: shift() calls into the runtime). */
function removeBottom(stack: ExecContext[]): void {
  if (stack.length === 1) stack.pop();
  else stack.shift();
}

/** The message for an access through a value that is not a machine address (a scenario error, not a bug check). */
function notAnAddress(a: unknown, apiStack: readonly string[] | undefined): string {
  const api = apiStack && apiStack.length > 0 ? apiStack[apiStack.length - 1]! : 'a memory access';
  const shown = typeof a === 'string' ? quote(a) : typeof a === 'number' || a === undefined || a === null ? String(a) : `a ${typeof a}`;
  return `${api}: address ${shown} is not a machine address — did setup return the object?`;
}
