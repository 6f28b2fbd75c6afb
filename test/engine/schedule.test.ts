import { describe, expect, it } from 'vitest';
import { ControlledRun, type Execution } from '../../src/engine/controlled.ts';
import { checkScheduleFits, explore, makeStrategy, replay, type ExploreStrategy } from '../../src/engine/explore.ts';
import { decodeSchedule, encodeSchedule, ScheduleError, SCHEDULE_PREFIX, type ScheduleRecord } from '../../src/engine/schedule.ts';
import type { Rig } from '../../src/machine/rig.ts';
import type { Scenario } from '../../src/scenario/define.ts';
import abba from '../../scenarios/spinlock/abba.ts';
import irqlAsLock from '../../scenarios/spinlock/irql-as-lock.ts';
import naiveTas from '../../scenarios/spinlock/naive-tas.ts';
import recursive from '../../scenarios/spinlock/recursive-acquire.ts';
import { preset, rig } from '../helpers.ts';

const URL_SAFE = /^[A-Za-z0-9._~-]+$/;

/** Explores with traces on, returning the first failing execution, its trace and its schedule string. */
function findFailure(r: Rig, s: Scenario, strategy: ExploreStrategy, seed: number, budget = 3000): { x: Execution; schedule: string } {
  const run = new ControlledRun(r, s);
  const st = makeStrategy(strategy, seed, 3, 2);
  for (let i = 0; i < budget; i++) {
    if (!st.newExecution(i)) break;
    const x = run.execute(st, { trace: true });
    if (x.outcome !== 'pass') return { x: { ...x, deviations: x.deviations.slice() }, schedule: run.scheduleOf(x) };
  }
  throw new Error(`no failure of ${s.id} on ${r.id}`);
}

describe('schedule strings', () => {
  const rec: ScheduleRecord = {
    scenarioId: 'cancel/queue-then-set',
    scenarioVersion: 3,
    rigId: 'dual-opteron-240',
    rigFingerprint: 0xdeadbeef,
    steps: 123456,
    outcome: 'bugcheck',
    deviations: Int32Array.from([0, 1, 5, 4, 300, 2, 70000, 35]),
  };

  it('round-trip exactly, start with the version prefix and are URL-safe', () => {
    const s = encodeSchedule(rec);
    expect(s.startsWith(SCHEDULE_PREFIX)).toBe(true);
    expect(s).toMatch(URL_SAFE);
    expect(encodeURIComponent(s)).toBe(s);
    const back = decodeSchedule(s);
    expect({ ...back, deviations: Array.from(back.deviations) }).toEqual({ ...rec, deviations: Array.from(rec.deviations) });
  });

  it('tolerates surrounding whitespace (copy-paste) but nothing else', () => {
    expect(decodeSchedule(`  ${encodeSchedule(rec)}\n`).steps).toBe(rec.steps);
  });

  it('a truncated string is refused with a clear message', () => {
    const s = encodeSchedule(rec);
    for (let n = SCHEDULE_PREFIX.length; n < s.length; n++) {
      expect(() => decodeSchedule(s.slice(0, n)), `prefix of length ${n}`).toThrow(ScheduleError);
      expect(() => decodeSchedule(s.slice(0, n))).toThrow(/truncated|corrupted/);
    }
  });

  it('every single-character corruption is refused', () => {
    const s = encodeSchedule(rec);
    const alphabet = 'AQgw_-9z';
    for (let i = SCHEDULE_PREFIX.length; i < s.length; i++) {
      for (const c of alphabet) {
        if (c === s[i]) continue;
        const bad = s.slice(0, i) + c + s.slice(i + 1);
        expect(() => decodeSchedule(bad), `character ${i} changed to '${c}'`).toThrow(ScheduleError);
      }
    }
  });

  it('a corrupted last character is refused too, whatever the length (no unused bits are ignored)', () => {
    const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const accepted: string[] = [];
    for (let extra = 0; extra < 3; extra++) {
      const s = encodeSchedule({ ...rec, scenarioId: `${rec.scenarioId}${'x'.repeat(extra)}` });
      const last = s.length - 1;
      for (const c of B64URL) {
        if (c === s[last]) continue;
        const bad = s.slice(0, last) + c;
        try {
          decodeSchedule(bad);
          accepted.push(`${s.slice(-3)} → ${bad.slice(-3)}`);
        } catch (e) {
          expect(e).toBeInstanceOf(ScheduleError);
        }
      }
    }
    expect(accepted, 'corrupted schedules accepted as if intact').toEqual([]);
  });

  it('foreign strings are refused with the reason', () => {
    expect(() => decodeSchedule('hello')).toThrow(/not a Racebox schedule/);
    expect(() => decodeSchedule('rb9.AAAA')).toThrow(/"rb9\." is not supported/);
    expect(() => decodeSchedule(`${SCHEDULE_PREFIX}abc+def/`)).toThrow(/not base64url/);
    expect(() => decodeSchedule(SCHEDULE_PREFIX)).toThrow(/truncated/);
  });
});

describe('replay', () => {
  const cases: [string, Rig, Scenario, ExploreStrategy, number][] = [
    ['abba deadlock (quad-free, pct)', preset('quad-free'), abba, 'pct', 1],
    ['abba 0x1001 (dual-opteron-240, random)', preset('dual-opteron-240'), abba, 'random', 1],
    ['lost update (p4-ht, random)', preset('p4-ht'), irqlAsLock, 'random', 4],
    ['lost update (workstation-16, dfs)', preset('workstation-16'), irqlAsLock, 'dfs', 1],
    ['naive-tas deadlock (uniprocessor, pct)', preset('uniprocessor'), naiveTas, 'pct', 2],
    ['recursion hang (quad-free, random)', preset('quad-free'), recursive, 'random', 3],
  ];
  for (const [name, r, s, strategy, seed] of cases) {
    it(`reproduces the identical failure and trace: ${name}`, () => {
      const { x, schedule } = findFailure(r, s, strategy, seed);
      expect(schedule).toMatch(URL_SAFE);
      const { summary, execution } = replay(r, s, schedule, { trace: true });
      expect(summary.outcome).toBe(x.outcome);
      expect(execution.steps).toBe(x.steps);
      expect(execution.trace).toEqual(x.trace);
      // `source` is compared in outcomes.test.ts (it must not depend on who called the engine)
      const { schedule: _a, source: _s, ...want } = { ...x.failure!, schedule: '' };
      const { schedule: got, source: _t, ...have } = summary.failure!;
      expect(have).toEqual(want);
      expect(got).toBe(schedule);
      expect(summary.strategy).toBe('replay');
    });
  }

  it('explore and replay agree on the schedule string printed for a failure', () => {
    const r = preset('dual-opteron-240');
    const res = explore(r, irqlAsLock, { strategy: 'pct', seed: 9, schedules: 500 });
    expect(res.outcome).toBe('invariant');
    const again = replay(r, irqlAsLock, res.failure!.schedule);
    expect(again.summary.outcome).toBe('invariant');
    expect(again.summary.failure!.message).toBe(res.failure!.message);
    expect(again.summary.failure!.step).toBe(res.failure!.step);
  });

  it('a schedule is refused for another scenario, another version, or another rig — never a different run', () => {
    const r = preset('quad-free');
    const { schedule } = findFailure(r, abba, 'pct', 1);
    expect(() => replay(r, naiveTas, schedule)).toThrow(ScheduleError);
    expect(() => replay(r, naiveTas, schedule)).toThrow(/recorded for scenario 'spinlock\/abba', not 'spinlock\/naive-tas'/);
    const v2 = { ...abba, version: abba.version + 1 };
    expect(() => replay(r, v2, schedule)).toThrow(/recorded with version 1 of 'spinlock\/abba'; this is version 2/);
    expect(() => replay(preset('dual-opteron-240'), abba, schedule)).toThrow(/recorded on rig 'quad-free'; rig 'dual-opteron-240' differs from it in what a replay depends on: cores 4 → 2/);
    expect(() => replay(rig({ id: 'quad-free', cores: 4, build: 'free', quantum: 31 }), abba, schedule)).toThrow(ScheduleError);
    // the same machine under another name is fine
    const renamed = rig({ id: 'my-quad', title: 'mine', cores: 4, build: 'free' });
    expect(replay(renamed, abba, schedule).summary.outcome).toBe('deadlock');
    expect(() => checkScheduleFits(decodeSchedule(schedule), r, abba)).not.toThrow();
  });

  it('a truncated or corrupted schedule is refused by replay', () => {
    const r = preset('quad-free');
    const { schedule } = findFailure(r, abba, 'pct', 1);
    expect(() => replay(r, abba, schedule.slice(0, -3))).toThrow(ScheduleError);
    const mid = Math.floor(schedule.length / 2);
    const corrupted = schedule.slice(0, mid) + (schedule[mid] === 'A' ? 'B' : 'A') + schedule.slice(mid + 1);
    expect(() => replay(r, abba, corrupted)).toThrow(/corrupted|truncated|malformed/);
  });

  it('a schedule whose recorded run does not match the scenario any more ends as a divergence error', () => {
    const r = preset('quad-free');
    const { x, schedule } = findFailure(r, abba, 'pct', 1);
    const rec = decodeSchedule(schedule);
    // same scenario and version, but the recording claims a longer run: the code changed without a version bump
    const forged = encodeSchedule({ ...rec, steps: rec.steps + 5 });
    const res = replay(r, abba, forged);
    expect(res.summary.outcome).toBe('error');
    expect(res.summary.failure!.message).toMatch(/^replay diverged/);
    // a switch at a step that is not a decision point
    const forged2 = encodeSchedule({ ...rec, deviations: Int32Array.from([...rec.deviations, x.steps + 10, 0]) });
    expect(replay(r, abba, forged2).summary.failure!.message).toMatch(/^replay diverged/);
    // a recorded choice that is not possible at that step
    const dev = Int32Array.from(rec.deviations);
    dev[1] = 99;
    expect(replay(r, abba, encodeSchedule({ ...rec, deviations: dev })).summary.failure!.message).toMatch(/^replay diverged at step \d+: recorded choice 99 is not possible/);
  });
});
