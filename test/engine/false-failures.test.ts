import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { loadAllScenarios } from '../../src/workers/node-load.ts';
import { DETECTION_STRATEGIES, cleanRigs } from '../../bench/detection.bench.ts';

/**
 * A seeded subset of the detection table's false-failure check (bench/detection.bench.ts):
 * every correct library scenario under every strategy stays clean for a few hundred schedules.
 * The full check (100,000 schedules each) is `racebox bench --only detection`.
 */
describe('no strategy reports a failure in a correct library scenario', async () => {
  const cells = (await loadAllScenarios()).flatMap((s) => cleanRigs(s).map((rig) => ({ s, rig })));
  it('there are correct scenarios to check on both architectures', () => {
    expect(cells.filter((c) => c.rig.arch === 'x64').length).toBeGreaterThan(5);
    expect(cells.filter((c) => c.rig.arch === 'arm64').length).toBeGreaterThan(5);
    // Correct on x64, buggy on ARM64: still checked clean where it is correct.
    expect(cells.some((c) => c.s.id === 'spinlock/ttas' && c.rig.arch === 'x64')).toBe(true);
    expect(cells.some((c) => c.s.id === 'spinlock/ttas' && c.rig.arch === 'arm64')).toBe(false);
  });
  for (const { s, rig } of cells) {
    it(`${s.id} @ ${rig.id}`, () => {
      for (const st of DETECTION_STRATEGIES) {
        const r = explore(rig, s, { ...st.options, seed: 7, schedules: 200 });
        expect(r.outcome === 'pass' ? 'pass' : `${st.label}: ${r.outcome} — ${r.failure?.message}`).toBe('pass');
      }
    }, 30_000);
  }
});
