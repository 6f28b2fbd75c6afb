import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { listRigs, loadAllScenarios } from '../../src/workers/node-load.ts';
import { DETECTION_STRATEGIES, detectionRig, isCorrect } from '../../bench/detection.bench.ts';

/**
 * A seeded subset of the detection table's false-failure check (bench/detection.bench.ts):
 * every correct library scenario under every strategy stays clean for a few hundred schedules.
 * The full check (100,000 schedules each) is `racebox bench --only detection`.
 */
describe('no strategy reports a failure in a correct library scenario', async () => {
  const rigs = listRigs();
  const correct = (await loadAllScenarios()).filter((s) => isCorrect(s, rigs));
  it('there are correct scenarios to check', () => {
    expect(correct.length).toBeGreaterThan(5);
  });
  for (const s of correct) {
    it(s.id, () => {
      const at = detectionRig(s, rigs, 'correct')!;
      for (const st of DETECTION_STRATEGIES) {
        const r = explore(at.rig, s, { ...st.options, seed: 7, schedules: 200 });
        expect(r.outcome === 'pass' ? 'pass' : `${st.label}: ${r.outcome} — ${r.failure?.message}`).toBe('pass');
      }
    }, 30_000);
  }
});
