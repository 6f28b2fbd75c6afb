import { bufferedChoice, decodeWeakChoice, flushChoice, MAX_EVENT_CHOICES, MAX_TIMER_CHOICES, staleChoice, timerChoiceBase, weakChoiceBase, weakChoiceEnd } from '../../src/engine/strategy.ts';
import { describe, expect, it } from 'vitest';
import { ControlledRun, type Execution } from '../../src/engine/controlled.ts';
import { checkScheduleFits, explore, makeStrategy, replay, type ExploreStrategy } from '../../src/engine/explore.ts';
import { choicesFromDeviations, crc32, decodeSchedule, deviationsFromChoices, encodeSchedule, scheduleFormat, ScheduleError, SCHEDULE_PREFIX, type ScheduleRecord } from '../../src/engine/schedule.ts';
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
    if (x.outcome !== 'pass') return { x: { ...x, deviations: x.deviations.slice() }, schedule: run.scheduleOf(x, { strategy, seed, index: i }) };
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
    origin: { strategy: 'portfolio', member: 'pct:4', seed: 7, index: 1_234_567 },
    handMadePrefix: 2,
    choices: [
      { step: 0, kind: 'cpu', cpu: 1 },
      { step: 5, kind: 'quantum-end', cpu: 3 },
      { step: 300, kind: 'event', event: 2 },
      { step: 301, kind: 'timer', timer: 40 },
      { step: 70000, kind: 'store-flush', cpu: 15, entry: 3 },
      { step: 70000 + 1, kind: 'store-buffered', cpu: 17 },
      { step: 70000 + 2, kind: 'stale-read', cpu: 2, k: 3 },
      { step: 70003, kind: 'cpu', cpu: 63 },
    ],
  };

  it('round-trip exactly (every choice kind, origin, hand-made prefix), start with rb2. and are URL-safe', () => {
    const s = encodeSchedule(rec);
    expect(s.startsWith('rb2.')).toBe(SCHEDULE_PREFIX === 'rb2.');
    expect(s).toMatch(URL_SAFE);
    expect(encodeURIComponent(s)).toBe(s);
    expect(decodeSchedule(s)).toEqual(rec);
    expect(scheduleFormat(s)).toBe('current');
  });

  it('round-trip without the optional parts, and stay compact: one byte per step gap and per CPU choice', () => {
    const bare: ScheduleRecord = { ...rec, choices: [{ step: 3, kind: 'cpu', cpu: 1 }, { step: 9, kind: 'cpu', cpu: 0 }] };
    delete bare.origin;
    delete bare.handMadePrefix;
    expect(decodeSchedule(encodeSchedule(bare))).toEqual(bare);
    const more: ScheduleRecord = { ...bare, choices: [...bare.choices, { step: 20, kind: 'cpu', cpu: 1 }] };
    const bytes = (x: ScheduleRecord): number => Math.ceil((encodeSchedule(x).length - SCHEDULE_PREFIX.length) * 3 / 4);
    expect(bytes(more) - bytes(bare)).toBeLessThanOrEqual(3);
  });

  it('engine choice ids convert both ways, and what this engine cannot replay is refused', () => {
    const dev = Int32Array.from([0, 1, 5, 2 + 1, 300, 4 + 2]);
    const choices = choicesFromDeviations(dev, 2);
    expect(choices).toEqual([{ step: 0, kind: 'cpu', cpu: 1 }, { step: 5, kind: 'quantum-end', cpu: 1 }, { step: 300, kind: 'event', event: 2 }]);
    expect(Array.from(deviationsFromChoices(choices, 2))).toEqual(Array.from(dev));
    expect(() => deviationsFromChoices([{ step: 1, kind: 'cpu', cpu: 2 }], 2)).toThrow(/names CPU 2 at step 1; this rig has 2/);
    expect(() => deviationsFromChoices([{ step: 1, kind: 'store-flush', cpu: 2, entry: 1 }], 2)).toThrow(/names CPU 2 at step 1; this rig has 2/);
    expect(() => deviationsFromChoices([{ step: 1, kind: 'stale-read', cpu: 0, k: 0 }], 2)).toThrow(/read of older value 0 at step 1; 1 to 3/);
    expect(() => deviationsFromChoices([{ step: 1, kind: 'store-flush', cpu: 0, entry: 4 }], 2)).toThrow(/flush of entry 4 at step 1; a store buffer holds 4/);
    expect(() => deviationsFromChoices([{ step: 1, kind: 'timer', timer: MAX_TIMER_CHOICES }], 2)).toThrow(/names timer 1024 at step 1; a run has at most 1024/);
    // A kernel timer's expiry: timer i is choice timerChoiceBase(n) + i, whatever events the run has.
    const timer = deviationsFromChoices([{ step: 1, kind: 'timer', timer: 3 }], 2);
    expect(Array.from(timer)).toEqual([1, timerChoiceBase(2) + 3]);
    expect(choicesFromDeviations(timer, 2)).toEqual([{ step: 1, kind: 'timer', timer: 3 }]);
    expect(() => deviationsFromChoices([{ step: 1, kind: 'event', event: MAX_EVENT_CHOICES }], 2)).toThrow(/at most/);
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

  it('an rb1 string from an older Racebox is refused, never misreplayed', () => {
    const rb1 = 'rb1.AQEXZXhhbXBsZS9ieXRlcy1pbi1mbGlnaHQQZHVhbC1vcHRlcm9uLTI0MAREN4wHBAICBAEBBkmVFw';
    expect(scheduleFormat(rb1)).toBe('older');
    expect(() => decodeSchedule(rb1)).toThrow(ScheduleError);
    expect(() => decodeSchedule(rb1)).toThrow('this schedule was recorded by an older Racebox (format rb1); run the scenario again to get a new one');
  });

  it('foreign strings are refused with the reason', () => {
    expect(() => decodeSchedule('hello')).toThrow(/not a Racebox schedule/);
    expect(() => decodeSchedule('rb9.AAAA')).toThrow(/recorded by a newer Racebox \(format rb9\)/);
    expect(scheduleFormat('rb9.AAAA')).toBe('newer');
    expect(scheduleFormat('')).toBe('none');
    expect(() => decodeSchedule(`${SCHEDULE_PREFIX}abc+def/`)).toThrow(/not base64url/);
    expect(() => decodeSchedule(SCHEDULE_PREFIX)).toThrow(/truncated/);
  });

  // Raw bodies with a valid checksum: what a newer (or broken) writer could produce.
  const varint = (v: number): number[] => {
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return out;
  };
  const str = (t: string): number[] => [...varint(t.length), ...new TextEncoder().encode(t)];
  const fieldOf = (id: number, critical: boolean, value: number[]): number[] => [...varint(id * 2 + (critical ? 1 : 0)), ...varint(value.length), ...value];
  const header = (extra: number[] = [], steps = 100): number[] => [
    2,
    ...fieldOf(1, true, str('a/b')), ...fieldOf(2, true, varint(1)), ...fieldOf(3, true, str('r')),
    ...fieldOf(4, true, [1, 2, 3, 4]), ...fieldOf(5, true, varint(steps)), ...fieldOf(6, true, [2]),
    ...extra, 0,
  ];
  const sealed = (body: number[]): string => {
    const b = Uint8Array.from(body);
    const c = crc32(b);
    const all = Uint8Array.from([...b, c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24]);
    return SCHEDULE_PREFIX + btoa(String.fromCharCode(...all)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };

  it('a raw body decodes as the writer meant (this test encoder agrees with the real one)', () => {
    const r = decodeSchedule(sealed([...header(), 1, ...varint(7), ...varint(1 * 8 + 0)]));
    expect(r).toEqual({ scenarioId: 'a/b', scenarioVersion: 1, rigId: 'r', rigFingerprint: 0x04030201, steps: 100, outcome: 'deadlock', choices: [{ step: 7, kind: 'cpu', cpu: 1 }] });
  });

  it('unknown choice kinds are refused by number; unknown header fields are skipped unless critical', () => {
    expect(() => decodeSchedule(sealed([...header(), 1, 3, 7]))).toThrow(/choice kind 8 at step 3, which this version of Racebox does not know/);
    expect(() => decodeSchedule(sealed([...header(), 1, 3, ...varint(2 * 8 + 7)]))).toThrow(/choice kind 10 at step 3/);
    expect(() => decodeSchedule(sealed([...header(fieldOf(40, true, [9])), 0]))).toThrow(/needs header field 40, which this version of Racebox does not know/);
    expect(decodeSchedule(sealed([...header(fieldOf(40, false, [9, 9])), 0])).steps).toBe(100);
  });

  it('weak-memory kinds 4, 5, 6 decode with their operands; an operand out of range is refused', () => {
    expect(decodeSchedule(sealed([...header(), 3, 3, 1 * 8 + 4, 3, 1, 2 * 8 + 5, 1, 0 * 8 + 6, 2])).choices).toEqual([
      { step: 3, kind: 'store-flush', cpu: 1, entry: 3 },
      { step: 4, kind: 'store-buffered', cpu: 2 },
      { step: 5, kind: 'stale-read', cpu: 0, k: 2 },
    ]);
    expect(() => decodeSchedule(sealed([...header(), 1, 3, 4, 4]))).toThrow(/malformed \(a store-buffer flush of entry 4 at step 3; a store buffer holds 4\)/);
    expect(() => decodeSchedule(sealed([...header(), 1, 3, 6, 0]))).toThrow(/malformed \(a read of older value 0 at step 3; 1 to 3\)/);
    expect(() => decodeSchedule(sealed([...header(), 1, 3, 6, 4]))).toThrow(/malformed \(a read of older value 4 at step 3; 1 to 3\)/);
    expect(() => decodeSchedule(sealed([...header(), 1, 3, 6]))).toThrow(/truncated/);
  });

  it('weak-memory choice ids: one range after the timers, each id decoding to its kind, CPU and operand', () => {
    const n = 3;
    expect(weakChoiceBase(n)).toBe(timerChoiceBase(n) + MAX_TIMER_CHOICES);
    const seen = new Set<number>();
    for (let c = 0; c < n; c++) {
      const ids = [bufferedChoice(n, c), staleChoice(n, c, 1), staleChoice(n, c, 3), flushChoice(n, c, 0), flushChoice(n, c, 3)];
      for (const id of ids) {
        expect(id).toBeGreaterThanOrEqual(weakChoiceBase(n));
        expect(id).toBeLessThan(weakChoiceEnd(n));
        seen.add(id);
      }
      expect(decodeWeakChoice(ids[0]!, n)).toEqual({ kind: 'buffered', cpu: c });
      expect(decodeWeakChoice(ids[2]!, n)).toEqual({ kind: 'stale', cpu: c, k: 3 });
      expect(decodeWeakChoice(ids[4]!, n)).toEqual({ kind: 'flush', cpu: c, entry: 3 });
      const dev = Int32Array.from([1, ids[0]!, 2, ids[1]!, 3, ids[3]!]);
      const choices = choicesFromDeviations(dev, n);
      expect(choices).toEqual([{ step: 1, kind: 'store-buffered', cpu: c }, { step: 2, kind: 'stale-read', cpu: c, k: 1 }, { step: 3, kind: 'store-flush', cpu: c, entry: 0 }]);
      expect(Array.from(deviationsFromChoices(choices, n))).toEqual(Array.from(dev));
    }
    expect(seen.size).toBe(5 * n);
    expect(decodeWeakChoice(weakChoiceEnd(n), n)).toBeNull();
    expect(decodeWeakChoice(weakChoiceBase(n) - 1, n)).toBeNull();
  });

  it('malformed bodies are refused with the reason', () => {
    const noSteps = [2, ...fieldOf(1, true, str('a/b')), ...fieldOf(2, true, varint(1)), ...fieldOf(3, true, str('r')), ...fieldOf(4, true, [1, 2, 3, 4]), ...fieldOf(6, true, [2]), 0, 0];
    expect(() => decodeSchedule(sealed(noSteps))).toThrow(/malformed \(no steps\)/);
    expect(() => decodeSchedule(sealed([...header(fieldOf(5, true, varint(3))), 0]))).toThrow(/header field 5 appears twice/);
    expect(() => decodeSchedule(sealed([...header(), 2, 3, 0, 0, 0]))).toThrow(/two choices at step 3/);
    expect(() => decodeSchedule(sealed([...header([], 10), 1, 11, 0]))).toThrow(/a choice at step 11 of a 10-step run/);
    expect(() => decodeSchedule(sealed([...header(), 0, 0]))).toThrow(/trailing bytes/);
    expect(() => decodeSchedule(sealed([...header(fieldOf(11, false, varint(3))), 1, 3, 0]))).toThrow(/hand-made prefix of 3 choices, but only 1/);
    expect(() => decodeSchedule(sealed([...header(fieldOf(9, false, varint(3))), 0]))).toThrow(/an origin without a strategy/);
    expect(() => decodeSchedule(sealed([1, 0, 0]))).toThrow(/format byte 1/);
    expect(() => decodeSchedule(sealed([...header(), 1, 3]))).toThrow(/truncated/);
    const oddOutcome = [...header()];
    oddOutcome[oddOutcome.lastIndexOf(2, oddOutcome.length - 2)] = 9;
    expect(() => decodeSchedule(sealed([...oddOutcome, 0]))).toThrow(/unknown outcome/);
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
      // Reorderings are explained by replay and explore (src/engine/reorderings.ts), not by one execution.
      const { schedule: got, source: _t, reorderings: _r, ...have } = summary.failure!;
      expect(have).toEqual(want);
      expect(got).toBe(schedule);
      expect(summary.strategy).toBe('replay');
    }, 30_000); // naive-tas traces the thousands of steps a guessed spin takes to reach the DPC watchdog
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
    const forged2 = encodeSchedule({ ...rec, steps: x.steps + 20, choices: [...rec.choices, { step: x.steps + 10, kind: 'cpu', cpu: 0 }] });
    expect(replay(r, abba, forged2).summary.failure!.message).toMatch(/^replay diverged/);
    // a recorded choice that is not possible at that step
    const first = rec.choices[0]!;
    const choices = [{ step: first.step, kind: 'event' as const, event: 91 }, ...rec.choices.slice(1)];
    expect(replay(r, abba, encodeSchedule({ ...rec, choices })).summary.failure!.message).toMatch(/^replay diverged at step \d+: recorded choice 99 is not possible/);
  });
});
