/** Step-by-step record of one execution: what replay --trace prints and the timeline draws. */
import { KERNEL_ROUTINES } from '../kernel/registry.ts';
import type { ExecContext } from '../machine/cpu.ts';
import type { Machine } from '../machine/machine.ts';
import { OP_NAMES, OP_READ, OP_RMW, OP_SPIN, OP_WRITE } from '../machine/ops.ts';
import { addressName, stateFieldNames } from './address-names.ts';
import { callStack, scenarioSite, type SourceSite, type StackFrame } from './source-site.ts';
import { timerChoiceBase } from './strategy.ts';

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

  /** `stateOf` gives the scenario's state once setup has run (fields of it are named `s.field`). */
  constructor(
    private readonly m: Machine,
    private readonly stateOf: () => unknown = () => undefined,
  ) {
    m.captureSites = true;
    Error.stackTraceLimit = Math.max(this.stackLimit, TRACE_STACK_FRAMES);
  }

  /** Stops capturing stacks (the machine is reused for untraced runs). */
  close(): void {
    this.settle();
    this.m.captureSites = false;
    Error.stackTraceLimit = this.stackLimit;
  }

  /**
   * Records on the previous entry what its step left behind: the value it
   * wrote, and the locks its context holds now, if they changed.
   */
  private settle(): void {
    const l = this.last;
    if (l === null) return;
    this.last = null;
    const e = l.entry;
    if (e.word !== undefined && e.fault === undefined && (e.op === 'write' || e.op === 'rmw')) e.wrote = this.m.words[e.word]!;
    const held = l.ctx.heldLocks;
    const key = held.join(',');
    if (key === (this.reported.get(l.ctx) ?? '')) return;
    this.reported.set(l.ctx, key);
    l.entry.held = held.map((a) => this.m.nameOf(a));
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
