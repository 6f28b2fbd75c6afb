/** Step-by-step record of one execution: what replay --trace prints and the timeline draws. */
import { KERNEL_ROUTINES } from '../kernel/registry.ts';
import type { ExecContext } from '../machine/cpu.ts';
import type { Machine } from '../machine/machine.ts';
import { OP_NAMES, OP_READ, OP_RMW, OP_SPIN, OP_WRITE } from '../machine/ops.ts';
import { addressName, stateFieldNames } from './address-names.ts';
import { callStack, scenarioSite, type SourceSite, type StackFrame } from './source-site.ts';
import { timerChoiceBase } from './strategy.ts';
import { ORDER_MASK, VARIANT_BUFFER } from '../machine/weak-memory.ts';
import { attachWeakEvents, bufferedStoreOf, detachWeakEvents, type WeakEventLog } from './weak-events.ts';

export interface TraceStep {
  step: number;
  cpu: number;
  /**
   * 'step' for an operation; 'quantum' and 'event' for the asynchronous choices; 'flush' for a
   * store-buffer flush (a buffered store of `cpu` becoming visible: `word`/`address`, `wrote`, `storedAt`).
   */
  what: 'step' | 'quantum' | 'event' | 'flush';
  context: string;
  kind: string;
  op: string;
  address?: string;
  routine: string;
  /** IRQL of the CPU when the step began. */
  irql: number;
  /** The scenario source line this step executes, when the host's stack traces show it. */
  source?: SourceSite;
  /**
   * The locks (by name) the stepping context holds after this step — given
   * only on the steps where that set changed since the context's last step
   * ([] once it released its last one), so the timeline draws exact holds
   * instead of guessing them from routine names.
   */
  held?: string[];
  /** Word address of a memory operation, and the start of the pool block holding it (to find an object's earlier steps). */
  word?: number;
  block?: number;
  /** The value a read, spin or interlocked operation found in the word (an interlocked operation's old value). */
  read?: number;
  /** The value a write or interlocked operation left in the word (an interlocked operation's new value). */
  wrote?: number;
  /** The access faulted (freed or unallocated memory): nothing was read or written. */
  fault?: boolean;
  /**
   * An ordering-API store that stayed in the CPU's store buffer (weak memory): the others did not
   * see it at this step. `wrote` is the value stored; `visibleAt`, when known, the step it became
   * visible at (a flush, a barrier, a later access that drained the buffer, the end of the run).
   */
  buffered?: true;
  visibleAt?: number;
  /** A flush step: the step of the store that became visible. */
  storedAt?: number;
  /**
   * An ordering-API read that returned an older value than the newest one (ARM64): the newest
   * value, the step of the store that wrote it and its CPU. `read` is the value it returned.
   */
  stale?: { newest: number; newestStep: number; newestCpu: number };
  /**
   * The stepping context's call stack, outermost first: the actor, the
   * helpers it delegates to, the kernel routines between them (scenario
   * frames name their line; kernel frames only their routine).
   */
  frames?: StackFrame[];
}

interface Where {
  source?: SourceSite;
  frames?: StackFrame[];
}

function whereOf(stack: string): Where {
  const site = scenarioSite(stack);
  const frames = callStack(stack, isKernelRoutine);
  return { ...(site ? { source: site } : {}), ...(frames.length > 0 ? { frames } : {}) };
}

const isKernelRoutine = (name: string): boolean => KERNEL_ROUTINES.has(name);

/** Deep yield* chains (actor → helpers → nested kernel routines) outgrow V8's default of 10 frames. */
const TRACE_STACK_FRAMES = 32;

export class TraceRecorder {
  readonly steps: TraceStep[] = [];
  /** The context that made the last step entry, which has run by the time the next entry is made. */
  private last: { ctx: ExecContext; entry: TraceStep } | null = null;
  /** Held locks last reported per context (a mutex handed to a waiter shows at the waiter's next step). */
  private readonly reported = new Map<ExecContext, string>();
  private readonly stackLimit = Error.stackTraceLimit;
  private fields: Set<string> | undefined;
  /** Parsed stacks by their text: a spin loop yields the same stack thousands of times. */
  private readonly parsed = new Map<string, Where>();
  /** What the model's weak operations did (null: a model that does not report; weak steps are then only marked). */
  private readonly log: WeakEventLog | null;
  /** The last step entry was an ordering-API access (its value comes from the model, not the word). */
  private lastOrdered = false;
  /** Buffered stores not yet visible, by (step, CPU) of the store. */
  private readonly invisible = new Map<number, TraceStep>();

  /** `stateOf` gives the scenario's state once setup has run (fields of it are named `s.field`). */
  constructor(
    private readonly m: Machine,
    private readonly stateOf: () => unknown = () => undefined,
  ) {
    m.captureSites = true;
    Error.stackTraceLimit = Math.max(this.stackLimit, TRACE_STACK_FRAMES);
    this.log = attachWeakEvents(m.weak);
  }

  /** Stops capturing stacks (the machine is reused for untraced runs). */
  close(): void {
    this.settle();
    if (this.log !== null) detachWeakEvents(this.m.weak);
    this.m.captureSites = false;
    Error.stackTraceLimit = this.stackLimit;
  }

  /**
   * Records on the previous entry what its step left behind: the value it
   * wrote, and the locks its context holds now, if they changed; and what
   * the memory model did meanwhile (a store kept buffered, stores made visible).
   */
  private settle(): void {
    const l = this.last;
    if (l !== null) {
      this.last = null;
      this.settleStep(l);
    }
    if (this.log !== null) this.takeWeakEvents(this.log, l?.entry);
  }

  private settleStep(l: { ctx: ExecContext; entry: TraceStep }): void {
    const e = l.entry;
    if (e.word !== undefined && e.fault === undefined && (e.op === 'write' || e.op === 'rmw')) e.wrote = this.m.words[e.word]!;
    const held = l.ctx.heldLocks;
    const key = held.join(',');
    if (key === (this.reported.get(l.ctx) ?? '')) return;
    this.reported.set(l.ctx, key);
    l.entry.held = held.map((a) => this.m.nameOf(a));
  }

  /** What the model reported since the last settle: on the step entry `e` (if any), and on earlier buffered stores. */
  private takeWeakEvents(log: WeakEventLog, e: TraceStep | undefined): void {
    if (e !== undefined && this.lastOrdered && e.fault === undefined) {
      const b = log.buffered;
      if (b !== null && b.cpu === e.cpu) {
        e.buffered = true;
        e.wrote = b.value;
        this.invisible.set(storeKey(b.storedAt, b.cpu), e);
      } else delete e.buffered;
      const r = log.read;
      if (r !== null && r.cpu === e.cpu) {
        e.read = r.value;
        if (r.stale !== null) e.stale = { ...r.stale };
      }
    }
    for (const v of log.visible) {
      const key = storeKey(v.storedAt, v.cpu);
      const b = this.invisible.get(key);
      if (b === undefined) continue;
      b.visibleAt = v.visibleAt;
      this.invisible.delete(key);
    }
    log.clear();
  }

  /** CPU `cpu`'s buffered store `entry` is about to become visible (a flush choice). */
  onFlush(cpu: number, entry: number): void {
    const m = this.m;
    this.settle();
    const b = bufferedStoreOf(m.weak, cpu, entry);
    const e: TraceStep = { step: m.step, cpu, what: 'flush', context: '', kind: 'flush', op: 'flush', routine: '', irql: m.cpus[cpu]!.irql };
    if (b !== undefined) {
      e.address = this.nameOf(b.addr);
      e.word = b.addr;
      const block = m.memory.blockAt(b.addr);
      if (block) e.block = block.addr;
      e.wrote = b.value;
      e.storedAt = b.storedAt;
      e.context = this.invisible.get(storeKey(b.storedAt, cpu))?.context ?? '';
    }
    this.steps.push(e);
  }

  /** Every buffered store is about to become visible at once (before a stuck state or the end of the run is reported). */
  beforeDrain(): void {
    this.settle();
  }

  afterDrain(): void {
    this.settle();
  }

  readonly onStep = (ctx: ExecContext, op: number, addr: number): void => {
    const m = this.m;
    this.settle();
    const entry: TraceStep = {
      step: m.step,
      cpu: ctx.cpu.index,
      what: 'step',
      context: ctx.name,
      kind: ctx.kind,
      op: OP_NAMES[op] ?? String(op),
      ...(op !== 0 && addr > 0 ? { address: this.nameOf(addr) } : {}),
      routine: ctx.apiStack[ctx.apiStack.length - 1] ?? ctx.name,
      irql: ctx.cpu.irql,
      ...this.sourceOf(ctx),
    };
    if (op !== 0 && addr > 0 && addr < m.words.length) this.noteAccess(entry, op, addr);
    this.lastOrdered = (ctx.order & ORDER_MASK) !== 0;
    // Known before the step; settle() confirms it with the model when it can.
    if (this.lastOrdered && m.variant === VARIANT_BUFFER && op === OP_WRITE) entry.buffered = true;
    this.steps.push(entry);
    this.last = { ctx, entry };
  };

  private sourceOf(ctx: ExecContext): Where {
    if (ctx.op === 0) return {};
    let w = this.parsed.get(ctx.site);
    if (w === undefined) this.parsed.set(ctx.site, (w = whereOf(ctx.site)));
    return w;
  }

  private nameOf(addr: number): string {
    this.fields ??= stateFieldNames(this.stateOf());
    return addressName(this.m, addr, this.fields);
  }

  /** The word and block a step names, and what a memory step reads (settle() adds what it wrote). */
  private noteAccess(entry: TraceStep, op: number, addr: number): void {
    const m = this.m;
    entry.word = addr;
    const b = m.memory.blockAt(addr);
    if (b) entry.block = b.addr;
    if (op !== OP_READ && op !== OP_WRITE && op !== OP_RMW && op !== OP_SPIN) return;
    if (m.shadow[addr] !== 1) entry.fault = true;
    else if (op !== OP_WRITE) entry.read = m.words[addr]!;
  }

  onEvent(choice: number): void {
    const m = this.m;
    this.settle();
    this.lastOrdered = false;
    const n = m.cpus.length;
    if (choice < 2 * n) {
      const cpu = m.cpus[choice - n]!;
      this.steps.push({ step: m.step, cpu: cpu.index, what: 'quantum', context: cpu.thread?.name ?? '', kind: 'thread', op: 'quantum end', routine: '', irql: cpu.irql });
    } else {
      const timer = choice >= timerChoiceBase(n);
      const ev = timer ? m.timers[choice - timerChoiceBase(n)]! : m.events[choice - 2 * n]!;
      this.steps.push({ step: m.step, cpu: ev.cpu, what: 'event', context: ev.name, kind: 'event', op: timer ? 'expires' : 'arrives', routine: '', irql: m.cpus[ev.cpu]!.irql });
    }
  }
}

/** A buffered store's key: the step that stored it and its CPU. */
function storeKey(step: number, cpu: number): number {
  return step * 1024 + cpu;
}
