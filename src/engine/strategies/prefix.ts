import { contains, defaultChoice, type PendingOps, type Strategy } from '../strategy.ts';

/**
 * Search from here: every execution first follows a fixed prefix — the
 * (step, choice) pairs before step `until`, the default elsewhere — and the
 * inner strategy decides from `until` on. A prefix choice that is not possible
 * (the prefix came from another run) falls back to the default.
 */
export class PrefixStrategy implements Strategy {
  readonly name: string;
  private pos = 0;

  constructor(
    readonly inner: Strategy,
    private readonly prefix: Int32Array,
    readonly until: number,
  ) {
    this.name = inner.name;
  }

  newExecution(index: number): boolean {
    this.pos = 0;
    return this.inner.newExecution(index);
  }

  next(choices: Int32Array, count: number, current: number, step: number): number {
    if (step >= this.until) return this.inner.next(choices, count, current, step);
    const d = this.prefix;
    while (this.pos < d.length && d[this.pos]! < step) this.pos += 2;
    if (this.pos < d.length && d[this.pos] === step) {
      const want = d[this.pos + 1]!;
      this.pos += 2;
      if (contains(choices, count, want)) return want;
    }
    return defaultChoice(choices, count, current);
  }

  yielded(cpu: number): void {
    this.inner.yielded?.(cpu);
  }

  endExecution(steps: number): void {
    this.inner.endExecution?.(steps);
  }

  attach(view: PendingOps): void {
    this.inner.attach?.(view);
  }
}

/** The (step, choice) pairs of `deviations` before step `until`. */
export function prefixBefore(deviations: Int32Array, until: number): Int32Array {
  let n = 0;
  while (2 * n < deviations.length && deviations[2 * n]! < until) n++;
  return deviations.slice(0, 2 * n);
}
