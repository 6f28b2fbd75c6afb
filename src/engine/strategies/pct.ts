import { Rng, scheduleSeed } from '../prng.ts';
import type { Strategy } from '../strategy.ts';

/**
 * Probabilistic Concurrency Testing: Burckhardt, Kothari, Musuvathi and
 * Nagarakatte, "A Randomized Scheduler with Probabilistic Guarantees of
 * Finding Bugs", ASPLOS 2010.
 *
 * Every choice (a CPU, a quantum end, an interrupt or DPC arrival) gets a
 * random priority ≥ d the first time it is enabled; the highest-priority
 * enabled choice always runs. At d−1 change points drawn uniformly from the
 * k steps of a run, the choice about to run drops below every initial
 * priority. A bug of depth d among n choices in k steps is found with
 * probability ≥ 1/(n·k^(d−1)) per run.
 *
 * Fair scheduling (Musuvathi and Qadeer, "Fair Stateless Model Checking",
 * PLDI 2008): a CPU whose step was a yield — a poll that saw nothing new, a
 * PAUSE, a wait that returned at once — drops below every other priority,
 * the latest yield lowest. Strict priorities would otherwise let a busy
 * loop starve the lower-priority CPU that ends it, until the watchdog
 * reported a hang no machine shows. The lowering depends only on the run, so
 * schedule i still depends only on (seed, i).
 */
export class PctStrategy implements Strategy {
  readonly name = 'pct';
  private rng = new Rng(0);
  private prio = new Float64Array(256);
  private changePoints: number[] = [];
  private decisions = 0;
  /** The priority the latest yield got (negative, below every other: see yielded). */
  private floor = 0;
  /**
   * k: the decision points of a run, over which change points are drawn. It is
   * fixed for the whole exploration (measured once by `calibratePct`), so that
   * schedule i depends only on (seed, i) — whichever worker runs it, after
   * whatever ran before.
   */
  private readonly k: number;

  constructor(
    private readonly seed: number,
    readonly depth: number,
    k = 32,
  ) {
    this.k = Math.max(1, Math.floor(k));
  }

  newExecution(index: number): boolean {
    this.rng.reseed(scheduleSeed(this.seed, index));
    this.prio.fill(0);
    this.decisions = 0;
    this.floor = 0;
    this.changePoints = [];
    for (let i = 0; i < this.depth - 1; i++) this.changePoints.push(1 + this.rng.int(this.k));
    this.changePoints.sort((a, b) => a - b);
    return true;
  }

  next(choices: Int32Array, count: number): number {
    const d = ++this.decisions;
    if (choices[count - 1]! >= this.prio.length) {
      const grown = new Float64Array(Math.max(this.prio.length * 2, choices[count - 1]! + 1));
      grown.set(this.prio);
      this.prio = grown;
    }
    let best = -1;
    let bestPrio = -Infinity;
    for (let i = 0; i < count; i++) {
      const id = choices[i]!;
      let p = this.prio[id]!;
      if (p === 0) p = this.prio[id] = this.depth + 1 + this.rng.float() * 1e9;
      if (p > bestPrio) {
        bestPrio = p;
        best = id;
      }
    }
    for (let j = 0; j < this.changePoints.length; j++) {
      if (this.changePoints[j] === d) {
        this.prio[best] = this.depth - j;
        best = -1;
        bestPrio = -Infinity;
        for (let i = 0; i < count; i++) {
          const id = choices[i]!;
          if (this.prio[id]! > bestPrio) {
            bestPrio = this.prio[id]!;
            best = id;
          }
        }
      }
    }
    return best;
  }

  yielded(cpu: number): void {
    if (cpu >= this.prio.length) return;
    this.prio[cpu] = --this.floor;
  }

}
