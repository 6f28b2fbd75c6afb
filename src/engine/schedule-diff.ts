/**
 * Two schedules of the same scenario as interleavings: both runs are the same,
 * step for step, up to the first step where one of them chose something
 * else (a run is deterministic given its choices), so that step is where
 * they diverge. Pure: it reads the schedule strings only.
 */
import { decodeSchedule, type ScheduleChoice, type ScheduleRecord } from './schedule.ts';

export type ScheduleComparison =
  | { kind: 'identical'; steps: number }
  | {
      kind: 'diverge';
      /** The first step at which the two runs did different things. */
      step: number;
      /** What each schedule chose there (undefined: the default — keep running the same CPU, else the lowest). */
      a?: ScheduleChoice;
      b?: ScheduleChoice;
    }
  /** Not two interleavings of one run: another scenario, version or rig, or a string that does not decode. */
  | { kind: 'incomparable'; reason: string };

function sameChoice(x: ScheduleChoice, y: ScheduleChoice): boolean {
  return JSON.stringify(x) === JSON.stringify(y);
}

export function compareSchedules(a: string, b: string): ScheduleComparison {
  let x: ScheduleRecord;
  let y: ScheduleRecord;
  try {
    x = decodeSchedule(a);
    y = decodeSchedule(b);
  } catch (e) {
    return { kind: 'incomparable', reason: (e as Error).message };
  }
  if (x.scenarioId !== y.scenarioId || x.scenarioVersion !== y.scenarioVersion) return { kind: 'incomparable', reason: 'the schedules are of different scenarios (or versions)' };
  if (x.rigFingerprint !== y.rigFingerprint) return { kind: 'incomparable', reason: 'the schedules were recorded on rigs that differ' };
  const n = Math.min(x.choices.length, y.choices.length);
  for (let i = 0; i < n; i++) {
    const p = x.choices[i]!;
    const q = y.choices[i]!;
    if (sameChoice(p, q)) continue;
    if (p.step === q.step) return { kind: 'diverge', step: p.step, a: p, b: q };
    // The earlier choice is one the other schedule did not make: it took the default there.
    return p.step < q.step ? { kind: 'diverge', step: p.step, a: p } : { kind: 'diverge', step: q.step, b: q };
  }
  const restA = x.choices[n];
  const restB = y.choices[n];
  if (restA) return { kind: 'diverge', step: restA.step, a: restA };
  if (restB) return { kind: 'diverge', step: restB.step, b: restB };
  // Same choices: the same run (a different length can only be a run cut short by its end).
  return x.steps === y.steps ? { kind: 'identical', steps: x.steps } : { kind: 'diverge', step: Math.min(x.steps, y.steps) };
}

/** A choice in words ("CPU 1 steps", "quantum end on CPU 0", "event 0 fires"); undefined is the default. */
export function describeChoice(c: ScheduleChoice | undefined): string {
  if (c === undefined) return 'the default (the CPU that ran the step before goes on, else the lowest-numbered one)';
  switch (c.kind) {
    case 'cpu': return `CPU ${c.cpu} steps`;
    case 'quantum-end': return `the quantum ends on CPU ${c.cpu}`;
    case 'event': return `asynchronous event ${c.event} fires (a DPC or interrupt arrives)`;
    case 'timer': return `timer ${c.timer} expires`;
    case 'store-flush': return `CPU ${c.cpu}'s buffered store ${c.entry} becomes visible (store-buffer flush)`;
    case 'store-buffered': return `CPU ${c.cpu} steps, its store kept in its store buffer`;
    case 'stale-read': return `CPU ${c.cpu} steps, its read returning the ${ordinal(c.k)} older value`;
  }
}

function ordinal(k: number): string {
  return k === 1 ? '1st' : k === 2 ? '2nd' : k === 3 ? '3rd' : `${k}th`;
}
