import { contains, defaultChoice, type Strategy } from '../strategy.ts';

export class ScheduleDivergence extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleDivergence';
  }
}

/**
 * Plays back a recorded schedule: at each recorded step the recorded choice,
 * everywhere else the default choice — exactly as the recording engine
 * decided. Any mismatch (a recorded choice that is not enabled, a step that
 * is no longer a decision point, a run of a different length) is reported,
 * never papered over.
 */
export class ReplayStrategy implements Strategy {
  readonly name = 'replay';
  private pos = 0;

  /** `deviations` holds (step, choice) pairs. */
  constructor(
    private readonly deviations: Int32Array,
    private readonly expectedSteps: number,
  ) {}

  newExecution(index: number): boolean {
    this.pos = 0;
    return index === 0;
  }

  next(choices: Int32Array, count: number, current: number, step: number): number {
    const d = this.deviations;
    if (this.pos < d.length) {
      const at = d[this.pos]!;
      if (at < step) throw new ScheduleDivergence(`replay diverged: the schedule switches at step ${at}, where this run had nothing to choose`);
      if (at === step) {
        const c = d[this.pos + 1]!;
        this.pos += 2;
        if (!contains(choices, count, c)) {
          throw new ScheduleDivergence(`replay diverged at step ${step}: recorded choice ${c} is not possible here (enabled: ${Array.from(choices.subarray(0, count)).join(', ')})`);
        }
        return c;
      }
    }
    return defaultChoice(choices, count, current);
  }

  /** Checks the run consumed the whole schedule and ended where the recording did. */
  finish(steps: number): void {
    if (this.pos < this.deviations.length) {
      throw new ScheduleDivergence(`replay diverged: the run ended at step ${steps} before the schedule's switch at step ${this.deviations[this.pos]}`);
    }
    if (steps !== this.expectedSteps) {
      throw new ScheduleDivergence(`replay diverged: the run took ${steps} steps, the recording ${this.expectedSteps}`);
    }
  }
}
