import { describe, expect, it } from 'vitest';
import { explore, replay } from '../../src/engine/explore.ts';
import { decodeSchedule } from '../../src/engine/schedule.ts';
import { countPreemptions, failureSignature, shrinkSchedule, shrinkSummary } from '../../src/engine/shrink.ts';
import { listRigs, loadAllScenarios } from '../../src/workers/node-load.ts';
import { detectionRig } from '../../bench/detection.bench.ts';

/**
 * Every buggy library scenario: the failure the search finds shrinks (default budgets) to a
 * schedule that replays to the same failure with at most as many preemptions and steps.
 */
describe('the smallest failing schedule', async () => {
  const rigs = listRigs();
  const buggy = (await loadAllScenarios()).map((s) => ({ s, at: detectionRig(s, rigs, 'buggy') })).filter((x) => x.at !== undefined);
  it('there are buggy scenarios to shrink', () => {
    expect(buggy.length).toBeGreaterThan(5);
  });
  let shrunkSome = 0;
  for (const { s, at } of buggy) {
    it(`${s.id} on ${at!.rig.id}`, () => {
      const rig = at!.rig;
      const found = explore(rig, s, { seed: 1, schedules: 10_000 });
      if (found.outcome === 'pass' || !found.failure?.schedule) return expect.fail(`the search found no failure in ${s.id}`);
      const original = found.failure.schedule;
      const r = shrinkSchedule(rig, s, original);
      expect(r.keptOriginal ?? '', 'a bound was hit').not.toMatch(/more than/);
      const before = countPreemptions(rig, s, original);
      expect(r.originalPreemptions).toBe(before);
      expect(r.preemptions).toBeLessThanOrEqual(r.originalPreemptions);
      // Steps count only among schedules with as few preemptions.
      if (r.preemptions === r.originalPreemptions) expect(r.steps).toBeLessThanOrEqual(r.originalSteps);
      // Replays exactly, to the same failure, with the preemptions it claims.
      const again = replay(rig, s, r.schedule).summary;
      expect(again.outcome).toBe(found.outcome);
      expect(failureSignature(again.failure!)).toBe(failureSignature(found.failure));
      expect(countPreemptions(rig, s, r.schedule)).toBe(r.preemptions);
      expect(decodeSchedule(r.schedule).steps).toBe(r.steps);
      // The same run gives the same shrunk schedule.
      expect(shrinkSchedule(rig, s, original).schedule).toBe(r.schedule);
      if (r.schedule !== original) shrunkSome++;
    }, 30_000);
  }
  it('shrinking made some schedule smaller', () => {
    expect(shrunkSome).toBeGreaterThan(0);
  });
});

describe('shrinkSummary', async () => {
  const rigs = listRigs();
  const s = (await loadAllScenarios()).find((x) => x.id === 'spinlock/naive-tas')!;
  const rig = detectionRig(s, rigs, 'buggy')!.rig;
  it('adds preemptions and the original steps, and keeps the original schedule when it changed', () => {
    const found = explore(rig, s, { seed: 3, schedules: 10_000 });
    const out = shrinkSummary(rig, s, found);
    const f = out.failure!;
    expect(f.preemptions).toBeTypeOf('number');
    expect(f.originalSteps).toBe(decodeSchedule(found.failure!.schedule).steps);
    if (f.schedule !== found.failure!.schedule) expect(f.originalSchedule).toBe(found.failure!.schedule);
    expect(f.preemptions!).toBeLessThanOrEqual(f.originalPreemptions!);
  });
  it('keeps the original when the budget is too small to finish', () => {
    const found = explore(rig, s, { seed: 3, schedules: 10_000 });
    const r = shrinkSchedule(rig, s, found.failure!.schedule, { maxReplays: 2 });
    expect(r.schedule).toBe(found.failure!.schedule);
    expect(r.keptOriginal).toMatch(/more than 2 replays/);
  });
  it('leaves a passing run alone', () => {
    const pass = { ...explore(rig, s, { seed: 1, schedules: 1 }), outcome: 'pass' as const, failure: undefined };
    expect(shrinkSummary(rig, s, pass)).toBe(pass);
  });
});
