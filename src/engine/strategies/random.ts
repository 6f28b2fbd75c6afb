import { Rng, scheduleSeed } from '../prng.ts';
import type { Strategy } from '../strategy.ts';

/** Uniform random choice at every decision point; schedule i is seeded from (seed, i). */
export class RandomStrategy implements Strategy {
  readonly name = 'random';
  private rng = new Rng(0);

  constructor(private readonly seed: number) {}

  newExecution(index: number): boolean {
    this.rng.reseed(scheduleSeed(this.seed, index));
    return true;
  }

  next(choices: Int32Array, count: number): number {
    return choices[this.rng.int(count)]!;
  }
}
