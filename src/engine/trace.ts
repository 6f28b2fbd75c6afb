/** Step-by-step record of one execution: what replay --trace prints and the timeline draws. */
import type { ExecContext } from '../machine/cpu.ts';
import type { Machine } from '../machine/machine.ts';
import { OP_NAMES } from '../machine/ops.ts';
import { scenarioSite, type SourceSite } from './source-site.ts';
import { timerChoiceBase } from './strategy.ts';

export interface TraceStep {
  step: number;
  cpu: number;
  /** 'step' for an operation; 'quantum' and 'event' for the asynchronous choices. */
  what: 'step' | 'quantum' | 'event';
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
}

function sourceOf(ctx: ExecContext): { source?: SourceSite } {
  const site = ctx.op !== 0 ? scenarioSite(ctx.site) : undefined;
  return site ? { source: site } : {};
}

export class TraceRecorder {
  readonly steps: TraceStep[] = [];
  /** The context that made the last step entry, which has run by the time the next entry is made. */
  private last: { ctx: ExecContext; entry: TraceStep } | null = null;
  /** Held locks last reported per context (a mutex handed to a waiter shows at the waiter's next step). */
  private readonly reported = new Map<ExecContext, string>();

  constructor(private readonly m: Machine) {
    m.captureSites = true;
  }

  /** Stops capturing stacks (the machine is reused for untraced runs). */
  close(): void {
    this.settle();
    this.m.captureSites = false;
  }

  /** Records on the previous entry the locks its context holds now, if they changed. */
  private settle(): void {
    const l = this.last;
    if (l === null) return;
    this.last = null;
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
      ...(op !== 0 && addr > 0 ? { address: m.nameOf(addr) } : {}),
      routine: ctx.apiStack[ctx.apiStack.length - 1] ?? ctx.name,
      irql: ctx.cpu.irql,
      ...sourceOf(ctx),
    };
    this.steps.push(entry);
    this.last = { ctx, entry };
  };

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
