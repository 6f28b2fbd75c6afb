import { describe, expect, it } from 'vitest';
import { measureLock, lockScenario, tableRig } from '../../bench/spinlock-table.bench.ts';
import { runTimed } from '../../src/engine/timed.ts';

// The timed mode is measured in virtual cycles, so these are deterministic
// properties of the cost model, not timings of the host.
describe('timed mode', () => {
  it('is deterministic: the same run gives the same cycles and bus operations', () => {
    const a = runTimed(tableRig(4), lockScenario('test-and-set', 4, 5));
    const b = runTimed(tableRig(4), lockScenario('test-and-set', 4, 5));
    expect(a.outcome).toBe('pass');
    expect(b).toEqual(a);
  });

  it('keeps every lock correct while spinning for real', () => {
    for (const kind of ['test-and-set', 'test-and-test-and-set', 'in-stack queued'] as const) {
      expect(runTimed(tableRig(8), lockScenario(kind, 8, 5)).outcome).toBe('pass');
    }
  });

  it('reproduces the spin-lock scaling result: test-and-set degrades with processors, the queued lock does not', () => {
    const tas2 = measureLock('test-and-set', 2, 10);
    const tas8 = measureLock('test-and-set', 8, 10);
    const q2 = measureLock('in-stack queued', 2, 10);
    const q8 = measureLock('in-stack queued', 8, 10);
    // Bus traffic per hand-off grows with contention for test-and-set ...
    expect(tas8.busOpsPerHandoff).toBeGreaterThan(1.5 * tas2.busOpsPerHandoff);
    // ... and stays constant (within 20%) for the MCS queue lock.
    expect(Math.abs(q8.busOpsPerHandoff - q2.busOpsPerHandoff)).toBeLessThan(0.2 * q2.busOpsPerHandoff);
    // Throughput: the queued lock beats test-and-set once 8 processors contend.
    expect(q8.handoffsPerKcycle).toBeGreaterThan(tas8.handoffsPerKcycle);
  });
});
