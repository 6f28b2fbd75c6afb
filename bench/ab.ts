/**
 * A/B speed comparison shared by the bench modules that compare two ways of exploring the same
 * scenario: rounds alternate which side runs first (so neither always pays for a warmer or colder
 * host), and a side's rate is one exploration's schedules per second.
 */
import { explore, type ExploreOptions } from '../src/engine/explore.ts';
import type { Rig } from '../src/machine/rig.ts';
import type { Scenario } from '../src/scenario/define.ts';

/** Schedules per second of one exploration round. */
export function explorationRate(rig: Rig, s: Scenario, options: ExploreOptions, seed: number, schedules: number): number {
  const r = explore(rig, s, { ...options, seed, schedules });
  return (r.schedulesRun * 1000) / Math.max(1, r.elapsedMs);
}

/** `rounds` alternating rounds (seed = round + 1): the baseline's rates, the candidate's, and candidate/baseline per round. */
export function alternatingRounds(
  rounds: number,
  baseline: (seed: number) => number,
  candidate: (seed: number) => number,
): { base: number[]; cand: number[]; ratios: number[] } {
  const base: number[] = [];
  const cand: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const seed = i + 1;
    let p: number;
    let q: number;
    if (i % 2 === 0) {
      p = baseline(seed);
      q = candidate(seed);
    } else {
      q = candidate(seed);
      p = baseline(seed);
    }
    base.push(p);
    cand.push(q);
    ratios.push(q / p);
  }
  return { base, cand, ratios };
}
