/**
 * What N clean PCT schedules say about the bugs that were not found. PCT finds
 * a bug of depth d among n choices in runs of k steps with probability at
 * least p = 1/(n·k^(d−1)) per schedule, so the chance that N independent
 * schedules all missed it is at most (1 − p)^N.
 */
import { int } from './format.ts';

export interface MissBound {
  depth: number;
  perRun: number;
  missed: number;
  /** Schedules needed to push the miss chance below 5 %. */
  for95: number;
}

export function pctMissBound(schedules: number, choices: number, stepsPerRun: number, depth: number): MissBound {
  const n = Math.max(1, choices);
  const k = Math.max(1, stepsPerRun);
  const p = 1 / (n * Math.pow(k, depth - 1));
  const missed = Math.exp(schedules * Math.log1p(-Math.min(p, 1 - 1e-12)));
  const for95 = p >= 1 ? 1 : Math.ceil(Math.log(0.05) / Math.log1p(-p));
  return { depth, perRun: p, missed: p >= 1 ? 0 : missed, for95 };
}

export function percent(x: number): string {
  if (x <= 0) return '0 %';
  if (x >= 0.995) return `${(x * 100).toFixed(x >= 0.9995 ? 1 : 0)} %`;
  if (x < 0.001) return 'less than 0.1 %';
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`;
}

/** A sentence a user understands. */
export function describeMissBound(b: MissBound, schedules: number): string {
  const chance = percent(b.missed);
  if (b.missed < 0.001) {
    // Rounded, "at least 100.0 %" and "at most less than 0.1 %" said nothing true.
    return `A bug that needs ${b.depth} events in a particular order would have been found with a probability above 99.9 %: the chance that ${int(schedules)} clean schedules missed one is below 0.1 %.`;
  }
  if (b.missed < 0.05) {
    return `A bug that needs ${b.depth} events in a particular order would have been found with at least ${percent(1 - b.missed)} probability: the chance that ${int(schedules)} clean schedules missed one is at most ${chance}.`;
  }
  return `This is not yet strong evidence: a bug that needs ${b.depth} events in a particular order could still have been missed with a chance of up to ${chance}. About ${int(b.for95)} schedules would bring that below 5 %.`;
}
