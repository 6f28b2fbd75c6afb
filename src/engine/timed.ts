/**
 * The timed mode: a virtual clock per logical CPU, advanced by a cache-
 * coherence cost model, and a scheduler that always steps the CPU furthest
 * behind (a discrete-event simulation). It yields performance figures —
 * cycles, bus operations, cache-line transfers — that do not depend on the
 * host's cores, which is what makes Anderson's and Mellor-Crummey & Scott's
 * spin-lock results reproducible on a laptop.
 *
 * The cache model is MESI reduced to what lock behaviour depends on: each
 * 64-byte line is owned (modified/exclusive) by one core or shared by a set
 * of cores. Hyper-threads of one core share its cache.
 */
import { OP_IRQL, OP_KERNEL, OP_PAUSE, OP_READ, OP_RMW, OP_SPIN, OP_START, OP_WRITE } from '../machine/ops.ts';
import type { ExecContext } from '../machine/cpu.ts';
import type { Machine } from '../machine/machine.ts';
import { WORDS_PER_LINE } from '../machine/memory.ts';
import type { CostModel, Rig } from '../machine/rig.ts';
import type { Scenario } from '../scenario/define.ts';
import { ControlledRun } from './controlled.ts';
import type { OutcomeKind } from './outcome.ts';
import type { Strategy } from './strategy.ts';

const NO_OWNER = -1;

export class CacheModel {
  /** Core owning each line in modified/exclusive state, or NO_OWNER. */
  private readonly owner: Int32Array;
  /** Cores holding each line shared (bit per core, up to 64 cores: two words). */
  private readonly sharedLo: Uint32Array;
  private readonly sharedHi: Uint32Array;
  /**
   * Virtual time until which each line is busy with a transfer. Transfers of
   * one line are serialized: a crowd of spinners hammering the lock's line
   * delays the release queued behind them, which is why test-and-set
   * collapses as processors are added.
   */
  private readonly busyUntil: Float64Array;
  busOps = 0;
  lineTransfers = 0;

  constructor(lines: number, private readonly cost: CostModel) {
    this.owner = new Int32Array(lines).fill(NO_OWNER);
    this.sharedLo = new Uint32Array(lines);
    this.sharedHi = new Uint32Array(lines);
    this.busyUntil = new Float64Array(lines);
  }

  private has(line: number, core: number): boolean {
    return core < 32 ? (this.sharedLo[line]! & (1 << core)) !== 0 : (this.sharedHi[line]! & (1 << (core - 32))) !== 0;
  }

  private only(line: number, core: number): void {
    this.sharedLo[line] = core < 32 ? 1 << core : 0;
    this.sharedHi[line] = core < 32 ? 0 : 1 << (core - 32);
  }

  /** A bus transaction on a line starting no earlier than `now`; returns when it completes. */
  private transfer(line: number, now: number): number {
    const start = Math.max(now, this.busyUntil[line]!);
    const end = start + this.cost.lineTransfer;
    this.busyUntil[line] = end;
    this.busOps++;
    this.lineTransfers++;
    return end;
  }

  /** A read by `core` at virtual time `now`; returns the time it completes. */
  read(addr: number, core: number, now: number): number {
    const line = (addr / WORDS_PER_LINE) | 0;
    const o = this.owner[line]!;
    if (o === core || this.has(line, core)) return now + this.cost.localAccess;
    // Miss: fetch the line from its owner's cache (or memory); it becomes shared.
    const end = this.transfer(line, now);
    if (o !== NO_OWNER) {
      this.owner[line] = NO_OWNER;
      this.only(line, o);
    }
    if (core < 32) this.sharedLo[line]! |= 1 << core;
    else this.sharedHi[line]! |= 1 << (core - 32);
    return end;
  }

  /** A write (or the write half of an interlocked operation) by `core` at `now`; returns the completion time. */
  write(addr: number, core: number, now: number): number {
    const line = (addr / WORDS_PER_LINE) | 0;
    if (this.owner[line] === core) return now + this.cost.localAccess;
    // Read-for-ownership: every other copy is invalidated.
    const end = this.transfer(line, now);
    this.owner[line] = core;
    this.only(line, core);
    return end;
  }
}

export interface TimedResult {
  outcome: OutcomeKind;
  message?: string;
  /** The slowest CPU's clock when the run ended. */
  cycles: number;
  busOps: number;
  lineTransfers: number;
  steps: number;
  clocks: number[];
}

/** Steps the CPU whose clock is furthest behind; ties go to the lower id. */
class TimedStrategy implements Strategy {
  readonly name = 'timed';
  constructor(private readonly clocks: Float64Array, private readonly cpuCount: number) {}
  newExecution(): boolean {
    return true;
  }
  next(choices: Int32Array, count: number): number {
    let best = choices[0]!;
    let bestClock = Infinity;
    for (let i = 0; i < count; i++) {
      const c = choices[i]!;
      // Quantum ends and arrivals are not timed events here: fire them as soon as they are possible.
      if (c >= this.cpuCount) return c;
      const t = this.clocks[c]!;
      if (t < bestClock) {
        bestClock = t;
        best = c;
      }
    }
    return best;
  }
}

/** Runs one execution of a scenario in the timed mode. */
export function runTimed(rig: Rig, scenario: Scenario): TimedResult {
  const run = new ControlledRun(rig, scenario);
  const m: Machine = run.m;
  m.spinBlocking = false;
  const cost = rig.cost;
  const clocks = new Float64Array(m.cpus.length);
  const cache = new CacheModel(Math.ceil(rig.memoryWords / WORDS_PER_LINE), cost);
  m.onStep = (ctx: ExecContext, op: number, addr: number): void => {
    const cpu = ctx.cpu;
    const core = cpu.core;
    const now = clocks[cpu.index]!;
    let t: number;
    switch (op) {
      case OP_READ:
        t = cache.read(addr, core, now);
        break;
      case OP_WRITE:
        t = cache.write(addr, core, now);
        break;
      case OP_RMW:
        t = cache.write(addr, core, now) + cost.interlocked;
        break;
      case OP_SPIN:
        t = cache.read(addr, core, now + cost.pause);
        break;
      case OP_PAUSE:
        t = now + cost.pause;
        break;
      case OP_IRQL:
        t = now + cost.irql;
        break;
      case OP_START:
      case OP_KERNEL:
      default:
        t = now + cost.localAccess;
    }
    clocks[cpu.index] = t;
  };
  const strategy = new TimedStrategy(clocks, m.cpus.length);
  strategy.newExecution();
  const x = run.execute(strategy);
  // execute() resets onStep after the run; nothing else to undo.
  let cycles = 0;
  for (const c of clocks) if (c > cycles) cycles = c;
  return {
    outcome: x.outcome,
    ...(x.failure ? { message: x.failure.message } : {}),
    cycles,
    busOps: cache.busOps,
    lineTransfers: cache.lineTransfers,
    steps: x.steps,
    clocks: Array.from(clocks),
  };
}
