import { contains, defaultChoice, weakChoiceBase, type PendingOps, type Strategy } from '../strategy.ts';

interface DecisionPoint {
  /** Choices enabled here, in the order they are tried: the default first. */
  options: number[];
  /** Index into options of the choice taken in the current execution. */
  taken: number;
  /** Preemptions spent before this point. */
  preemptionsBefore: number;
  /** The running choice here (-1 if none): choosing anything else while it is enabled is a preemption. */
  current: number;
}

/**
 * Systematic depth-first search over schedules with a preemption bound:
 * Musuvathi and Qadeer, "Iterative Context Bounding for Systematic Testing of
 * Multithreaded Programs", PLDI 2007 (the CHESS search). Stateless: each
 * execution replays the prefix of the previous one up to the deepest decision
 * point with an untried alternative, then takes that alternative and runs
 * non-preemptively. Switching away from a choice that is still enabled costs
 * one preemption; most real bugs need 2 or fewer. A weak-memory choice other
 * than the default (a store kept buffered, an older value read, a buffered
 * store made visible) costs one too: the bound limits reorderings as it
 * limits preemptions.
 */
export class DfsStrategy implements Strategy {
  readonly name = 'dfs';
  private trail: DecisionPoint[] = [];
  private pos = 0;
  private preemptions = 0;
  private started = false;
  /** weakChoiceBase of the rig, once known (attach or the constructor). */
  private weakBase = Number.MAX_SAFE_INTEGER;

  constructor(
    readonly preemptionBound: number,
    cpuCount?: number,
  ) {
    if (cpuCount !== undefined) this.weakBase = weakChoiceBase(cpuCount);
  }

  attach(view: PendingOps): void {
    this.weakBase = weakChoiceBase(view.cpuCount());
  }

  /** What taking option `t` of `p` costs against the bound. */
  private cost(p: DecisionPoint, t: number): number {
    const c = p.options[t]!;
    if (t !== 0 && c >= this.weakBase) return 1;
    return p.current >= 0 && c !== p.current ? 1 : 0;
  }

  newExecution(): boolean {
    if (this.started && !this.backtrack()) return false;
    this.started = true;
    this.pos = 0;
    this.preemptions = 0;
    return true;
  }

  /** Moves to the next unexplored alternative; false when the bounded tree is exhausted. */
  private backtrack(): boolean {
    while (this.trail.length > 0) {
      const p = this.trail[this.trail.length - 1]!;
      for (let t = p.taken + 1; t < p.options.length; t++) {
        if (p.preemptionsBefore + this.cost(p, t) <= this.preemptionBound) {
          p.taken = t;
          return true;
        }
      }
      this.trail.pop();
    }
    return false;
  }

  next(choices: Int32Array, count: number, current: number): number {
    let p = this.trail[this.pos];
    if (p === undefined) {
      const def = defaultChoice(choices, count, current);
      const options = [def];
      for (let i = 0; i < count; i++) if (choices[i] !== def) options.push(choices[i]!);
      p = { options, taken: 0, preemptionsBefore: this.preemptions, current: contains(choices, count, current) ? current : -1 };
      this.trail.push(p);
    }
    this.pos++;
    this.preemptions += this.cost(p, p.taken);
    return p.options[p.taken]!;
  }

  endExecution(): void {
    // Points past where this execution ended belong to a longer, earlier run.
    this.trail.length = Math.min(this.trail.length, this.pos);
  }
}
