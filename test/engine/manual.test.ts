import { describe, expect, it } from 'vitest';
import { explore, replay } from '../../src/engine/explore.ts';
import { manualFrom, manualPick, manualState, type ManualState } from '../../src/engine/manual.ts';
import { decodeSchedule } from '../../src/engine/schedule.ts';
import { loadScenario } from '../../src/workers/node-load.ts';
import { preset } from '../helpers.ts';

const rig = preset('dual-opteron-240');

/** Picks until `done` says stop: each time the choice `want` returns (undefined: the default). */
function drive(s: Parameters<typeof manualPick>[1], st: ManualState, want: (st: ManualState) => number | undefined): ManualState {
  for (let guard = 0; !st.ended && guard < 500; guard++) {
    const id = want(st) ?? st.choices.find((c) => c.isDefault)!.id;
    expect(st.choices.map((c) => c.id)).toContain(id);
    st = manualPick(rig, s, st, id);
  }
  return st;
}

describe('be the scheduler', async () => {
  const s = await loadScenario('spinlock/irql-as-lock');

  it('offers exactly the enabled choices, with the default marked', () => {
    const st = manualState(rig, s, [], 0);
    expect(st.ended).toBe(false);
    expect(st.step).toBe(0);
    const ids = st.choices.map((c) => c.id);
    // Two CPUs with a thread each, and the DPC's arrival (event 0 = choice 2n).
    expect(ids).toEqual([0, 1, 4]);
    expect(st.choices.filter((c) => c.isDefault).map((c) => c.id)).toEqual([0]);
    expect(st.choices[2]!.label).toMatch(/timerDpc arrives/);
    // With no picks, the run completed with defaults passes.
    expect(st.outcome).toBe('pass');
  });

  it('reproduces the lost update by hand, as a schedule that replays', () => {
    let readByCpu0 = false;
    let wroteByCpu1 = false;
    const end = drive(s, manualState(rig, s, [], 0), (st) => {
      const last = st.trace[st.trace.length - 1];
      if (last?.cpu === 0 && last.op === 'read') readByCpu0 = true;
      if (readByCpu0 && last?.cpu === 1 && last.op === 'write') wroteByCpu1 = true;
      if (!readByCpu0) return st.choices.some((c) => c.id === 0) ? 0 : undefined;
      if (!wroteByCpu1) return st.choices.some((c) => c.id === 1) ? 1 : undefined;
      return st.choices.some((c) => c.id === 0) ? 0 : undefined;
    });
    expect(end.ended).toBe(true);
    expect(end.outcome).toBe('invariant');
    expect(end.failure?.invariant).toBe('no lost update');
    const rec = decodeSchedule(end.schedule);
    expect(rec.origin?.strategy).toBe('manual');
    expect(rec.handMadePrefix).toBe(rec.choices.length);
    const again = replay(rig, s, end.schedule).summary;
    expect(again.outcome).toBe('invariant');
    expect(again.failure?.invariant).toBe('no lost update');
  });

  it('starts from any step of a recorded run, with that run\'s choices before it', () => {
    const found = explore(rig, s, { seed: 1, schedules: 1000 });
    const sched = found.failure!.schedule;
    const rec = decodeSchedule(sched);
    const at = Math.floor(rec.steps / 2);
    const st = manualFrom(rig, s, sched, at);
    expect(st.step).toBeGreaterThanOrEqual(at);
    expect(st.picks.length / 2).toBe(rec.choices.filter((c) => c.step < at).length);
    // Taking the default everywhere from a step past the last choice gives the recorded run back.
    const last = rec.choices.length ? rec.choices[rec.choices.length - 1]!.step + 1 : 0;
    const tail = drive(s, manualFrom(rig, s, sched, last), () => undefined);
    expect(tail.outcome).toBe(found.outcome);
    expect(decodeSchedule(tail.schedule).choices).toEqual(rec.choices);
  });

  it('search from here keeps the prefix and reports the first failure beyond it', () => {
    // A prefix where CPU 1 runs first (a hand-made choice at step 0), then a search.
    const picked = manualPick(rig, s, manualState(rig, s, [], 0), 1);
    const r = explore(rig, s, { seed: 2, schedules: 2000, prefix: { schedule: picked.schedule, step: picked.step! } });
    expect(r.outcome).toBe('invariant');
    const rec = decodeSchedule(r.failure!.schedule);
    expect(rec.choices[0]).toEqual({ step: 0, kind: 'cpu', cpu: 1 });
    expect(rec.handMadePrefix).toBe(1);
    expect(replay(rig, s, r.failure!.schedule).summary.outcome).toBe('invariant');
  });

  it('refuses picks that are not (step, choice) pairs in order', () => {
    expect(() => manualState(rig, s, [3, 0, 1, 1], 5)).toThrow(/step order/);
    expect(() => manualState(rig, s, [3], 5)).toThrow(/pairs/);
  });
});
