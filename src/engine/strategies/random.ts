import { Rng, scheduleSeed } from '../prng.ts';
import { weakChoiceBase, type PendingOps, type Strategy } from '../strategy.ts';

/**
 * Of the decisions where a weak-memory choice is enabled (a store that may stay buffered, an
 * older value a read may return, a buffered store that may become visible), the share where
 * random takes one. Small, so that the weak choices — often more numerous than the CPUs — do not
 * dilute the search over interleavings: a reordering bug typically needs one or two of them.
 */
export const RANDOM_WEAK_ODDS = 8;

/**
 * Uniform random choice at every decision point; schedule i is seeded from (seed, i). Weak-memory
 * choices are taken with probability 1/RANDOM_WEAK_ODDS when any is enabled (uniformly among
 * them), else a uniform choice among the others. A run with no weak choice draws exactly as before.
 */
export class RandomStrategy implements Strategy {
  readonly name = 'random';
  private rng = new Rng(0);
  /** weakChoiceBase of the rig, once known (attach or the constructor); until then every choice is ordinary. */
  private weakBase = Number.MAX_SAFE_INTEGER;

  constructor(
    private readonly seed: number,
    cpuCount?: number,
  ) {
    if (cpuCount !== undefined) this.weakBase = weakChoiceBase(cpuCount);
  }

  attach(view: PendingOps): void {
    this.weakBase = weakChoiceBase(view.cpuCount());
  }

  newExecution(index: number): boolean {
    this.rng.reseed(scheduleSeed(this.seed, index));
    return true;
  }

  next(choices: Int32Array, count: number): number {
    const wb = this.weakBase;
    if (choices[count - 1]! < wb) return choices[this.rng.int(count)]!;
    let ordinary = count - 1;
    while (ordinary > 0 && choices[ordinary - 1]! >= wb) ordinary--;
    if (ordinary === 0 || this.rng.int(RANDOM_WEAK_ODDS) === 0) return choices[ordinary + this.rng.int(count - ordinary)]!;
    return choices[this.rng.int(ordinary)]!;
  }
}
