import { describe, expect, it } from 'vitest';
import { explore, replay } from '../../src/engine/explore.ts';
import { manualPick, manualState } from '../../src/engine/manual.ts';
import { compareSchedules } from '../../src/engine/schedule-diff.ts';
import { loadScenario } from '../../src/workers/node-load.ts';
import { preset } from '../helpers.ts';

describe('two schedules as interleavings', async () => {
  const rig = preset('dual-opteron-240');
  const s = await loadScenario('spinlock/irql-as-lock');
  const trace = (schedule: string) => replay(rig, s, schedule, { trace: true }).execution.trace!;

  it('finds the first step where the runs differ: the traces agree before it and not at it', () => {
    const byDefault = manualState(rig, s, [], 0);
    const cpu1First = manualPick(rig, s, byDefault, 1);
    const found = explore(rig, s, { seed: 1, schedules: 1000 }).failure!.schedule;
    for (const [a, b] of [[byDefault.schedule, cpu1First.schedule], [found, byDefault.schedule], [found, cpu1First.schedule]] as const) {
      const c = compareSchedules(a, b);
      expect(c.kind).toBe('diverge');
      if (c.kind !== 'diverge') continue;
      const ta = trace(a);
      const tb = trace(b);
      const key = (t: (typeof ta)[number]) => `${t.cpu} ${t.what} ${t.context} ${t.op} ${t.address ?? ''}`;
      expect(ta.slice(0, c.step).map(key)).toEqual(tb.slice(0, c.step).map(key));
      expect(key(ta[c.step]!)).not.toBe(key(tb[c.step]!));
    }
  });

  it('says when two schedules are the same run, and when they cannot be compared', async () => {
    const found = explore(rig, s, { seed: 1, schedules: 1000 }).failure!.schedule;
    expect(compareSchedules(found, found)).toEqual({ kind: 'identical', steps: expect.any(Number) });
    const other = await loadScenario('spinlock/naive-tas');
    const theirs = explore(rig, other, { seed: 1, schedules: 1000 }).failure!.schedule;
    expect(compareSchedules(found, theirs).kind).toBe('incomparable');
    expect(compareSchedules(found, 'rb2.nonsense').kind).toBe('incomparable');
  });
});
