import { OP_KERNEL, OP_READ, OP_RMW, OP_SPIN, OP_WRITE } from '../../machine/ops.ts';
import { Rng, scheduleSeed } from '../prng.ts';
import type { PendingOps, Strategy } from '../strategy.ts';

/**
 * Partial Order Sampling: Yuan, Yang and Gu, "Partial Order Aware Concurrency
 * Sampling", CAV 2018.
 *
 * Every pending event (a CPU's next operation, a quantum end, an interrupt or
 * DPC arrival) holds a random priority; the highest-priority enabled event
 * runs. When an event runs, the event that follows it on the same CPU gets a
 * fresh priority, and so does every pending event that races with it — here,
 * an access to the same address where at least one side writes (an
 * interlocked operation or a kernel object's state change counts as a
 * write). Reassigning racing events is what makes POS sample partial orders
 * close to uniformly, where a plain random walk over-samples the orders that
 * differ only in independent steps.
 */
export class PosStrategy implements Strategy {
  readonly name = 'pos';
  private rng = new Rng(0);
  private prio = new Float64Array(256);
  private view: PendingOps | null = null;

  constructor(private readonly seed: number) {}

  attach(view: PendingOps): void {
    this.view = view;
  }

  newExecution(index: number): boolean {
    this.rng.reseed(scheduleSeed(this.seed, index));
    this.prio.fill(0);
    return true;
  }

  next(choices: Int32Array, count: number): number {
    const top = choices[count - 1]!;
    if (top >= this.prio.length) {
      const grown = new Float64Array(Math.max(this.prio.length * 2, top + 1));
      grown.set(this.prio);
      this.prio = grown;
    }
    const prio = this.prio;
    let best = -1;
    let bestPrio = -1;
    for (let i = 0; i < count; i++) {
      const id = choices[i]!;
      let p = prio[id]!;
      if (p === 0) p = prio[id] = 1 + this.rng.float();
      if (p > bestPrio) {
        bestPrio = p;
        best = id;
      }
    }
    const view = this.view;
    if (view !== null && best < view.cpuCount()) {
      const op = view.op(best);
      if (isAccess(op)) {
        const addr = view.addr(best);
        const writes = isWrite(op);
        for (let i = 0; i < count; i++) {
          const id = choices[i]!;
          if (id === best || id >= view.cpuCount()) continue;
          const other = view.op(id);
          if (isAccess(other) && view.addr(id) === addr && (writes || isWrite(other))) prio[id] = 0;
        }
      }
    }
    // The chosen event is consumed: whatever this choice means next is a new event.
    prio[best] = 0;
    return best;
  }
}

function isAccess(op: number): boolean {
  return op === OP_READ || op === OP_WRITE || op === OP_RMW || op === OP_SPIN || op === OP_KERNEL;
}

function isWrite(op: number): boolean {
  return op === OP_WRITE || op === OP_RMW || op === OP_KERNEL;
}
