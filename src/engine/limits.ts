/**
 * The ranges of a run's numeric settings, one definition for every way in:
 * the CLI's options (--seed, --schedules, ...) and the app's link parameters
 * (?seed=, &schedules=, ...) check against these, so a value one accepts the
 * other does not refuse, and a link cannot ask for what the CLI would not run.
 */
import { quote } from '../machine/text.ts';

export interface IntRange {
  min: number;
  max: number;
}

export const RUN_LIMITS = {
  seed: { min: 0, max: 2 ** 32 - 1 },
  schedules: { min: 1, max: 1_000_000_000 },
  /** PCT depth d. */
  depth: { min: 1, max: 20 },
  /** DFS preemption bound. */
  preemptions: { min: 0, max: 50 },
  workers: { min: 1, max: 64 },
  /** Free-run wall time. */
  seconds: { min: 1, max: 86_400 },
} as const satisfies Record<string, IntRange>;

export type RunLimit = keyof typeof RUN_LIMITS;

/**
 * A decimal integer within `range`, or undefined. Only digits (and a leading minus)
 * count: "1e12", "0x10", " 5" and "5.0" are not integers a person typed.
 */
export function intInRange(text: string, range: IntRange): number | undefined {
  if (!/^-?\d{1,20}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= range.min && n <= range.max ? n : undefined;
}

/** "must be an integer from 1 to 20 (got "999999")": the message both the CLI and the app give. */
export function rangeMessage(range: IntRange, got: string): string {
  return `must be an integer from ${range.min} to ${range.max} (got ${quote(got)})`;
}
