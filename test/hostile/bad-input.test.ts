/**
 * Issue 14, "every bad input a clear error": the machine, rig and schedule side.
 * Each case failed before its fix (a bug check at 0x00000NaN, a BOM refused,
 * a 3 MB line, "rig 'X', which differs from rig 'X'").
 */
import { describe, expect, it } from 'vitest';
import { explore, replay } from '../../src/engine/explore.ts';
import { decodeSchedule, encodeSchedule, ScheduleError, type ScheduleRecord } from '../../src/engine/schedule.ts';
import { parseRig, RigError, rigDifferences } from '../../src/machine/rig.ts';
import { clip, quote } from '../../src/machine/text.ts';
import abba from '../../scenarios/spinlock/abba.ts';
import { preset, rig, scn } from '../helpers.ts';

describe('an address that is not a number', () => {
  for (const [what, bad] of [['NaN', Number.NaN], ['undefined', undefined], ['1.5', 1.5]] as const) {
    it(`${what} passed to KeAcquireSpinLock is a scenario error, not a bug check`, () => {
      const s = scn({
        setup: () => ({ lock: bad as unknown as number }),
        actors: {
          a: {
            cpu: 0,
            *run(k, st) {
              const old = yield* k.KeAcquireSpinLock(st.lock);
              yield* k.KeReleaseSpinLock(st.lock, old);
            },
          },
        },
      });
      const r = explore(rig(), s, { schedules: 3 });
      expect(r.outcome).toBe('error');
      expect(r.failure!.message).toMatch(new RegExp(`^KeAcquireSpinLock: address ${what.replace('.', '\\.')} is not a machine address — did setup return the object\\?`));
      expect(r.failure!.message).not.toMatch(/0x0+NaN|bug check/i);
    });
  }

  it('an address out of range is still a bug check', () => {
    const s = scn({
      setup: () => ({ lock: 1 << 30 }),
      actors: {
        a: {
          cpu: 0,
          *run(k, st) {
            const old = yield* k.KeAcquireSpinLock(st.lock);
            yield* k.KeReleaseSpinLock(st.lock, old);
          },
        },
      },
    });
    expect(explore(rig(), s, { schedules: 1 }).outcome).toBe('bugcheck');
  });
});

const RIG = '{ "id": "bom", "title": "a rig saved by Notepad", "cores": 2, "hal": "mp", "build": "checked" }';

describe('rig files', () => {
  it('a UTF-8 byte-order mark is read', () => {
    expect(parseRig(`\uFEFF${RIG}`, 'bom.json').id).toBe('bom');
  });

  it('error lines quote user text cut to about 80 characters', () => {
    const huge = 'x'.repeat(3 * 1024 * 1024);
    const docs = [
      { id: huge, title: 't', cores: 2, hal: 'mp', build: 'checked' },
      { id: 'a', title: 't', cores: huge, hal: huge, build: huge, threadsPerCore: huge },
      { id: 'a', title: 't', cores: 2, hal: 'mp', build: 'checked', [huge]: 1, watchdog: { [huge]: 1 }, cost: { [huge]: 1 } },
    ];
    for (const doc of docs) {
      let err: unknown;
      try {
        parseRig(JSON.stringify(doc), 'big.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RigError);
      const e = err as RigError;
      expect(e.message.length).toBeLessThan(2000);
      for (const f of e.errors) {
        expect(f.field.length).toBeLessThanOrEqual(100);
        expect(f.message.length).toBeLessThanOrEqual(200);
      }
      expect(e.message).toContain('…');
    }
    expect(() => parseRig(`{"id": "${huge}`, 'cut.json')).toThrow(RigError);
    try {
      parseRig(`{"id": "${huge}`, 'cut.json');
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(400);
    }
  });

  it('found by the fuzz suite: inherited names, null and empty keys are not settings', () => {
    const base = JSON.parse(RIG) as Record<string, unknown>;
    const fields = (doc: unknown): string[] => {
      try {
        parseRig(JSON.stringify(doc), 'f.json');
        return [];
      } catch (e) {
        return (e as RigError).errors.map((f) => f.field);
      }
    };
    expect(fields({ ...base, cost: { constructor: 1 } })).toEqual(['cost.constructor']);
    expect(fields({ ...base, watchdog: JSON.parse('{"__proto__": 5}') })).toEqual(['watchdog.__proto__']);
    expect(fields({ ...base, upHalOnAllCpus: null })).toEqual(['upHalOnAllCpus']);
    expect(fields({ ...base, threadsPerCore: null })).toEqual(['threadsPerCore']);
    expect(fields({ ...base, '': 1 })).toEqual(['""']);
  });

  it('clip and quote', () => {
    expect(clip('abc')).toBe('abc');
    expect(clip('a'.repeat(200))).toHaveLength(80);
    expect(clip('a'.repeat(200)).endsWith('…')).toBe(true);
    expect(quote('a'.repeat(200))).toHaveLength(82);
    expect(quote(12)).toBe('12');
    expect(quote(undefined)).toBe('undefined');
  });
});

describe('the rig-mismatch message says what differs', () => {
  const schedule = (() => {
    const r = explore(preset('quad-free'), abba, { strategy: 'pct', seed: 1, schedules: 3000 });
    expect(r.outcome).toBe('deadlock');
    return r.failure!.schedule;
  })();

  it('a rig with the recorded id but other settings: the fields, never "rig X differs from rig X"', () => {
    const mine = rig({ id: 'quad-free', cores: 2, build: 'checked' });
    let msg = '';
    try {
      replay(mine, abba, schedule);
    } catch (e) {
      expect(e).toBeInstanceOf(ScheduleError);
      expect((e as ScheduleError).field).toBe('rig');
      msg = (e as Error).message;
    }
    expect(msg).not.toMatch(/rig 'quad-free', which differs from rig 'quad-free'/);
    expect(msg).toMatch(/recorded on rig 'quad-free'/);
    expect(msg).toMatch(/cores 4 → 2/);
    expect(msg).toMatch(/build free → checked/);
  });

  it('another preset: lists the fields that differ', () => {
    expect(() => replay(preset('dual-opteron-240'), abba, schedule)).toThrow(/recorded on rig 'quad-free'; rig 'dual-opteron-240' differs from it in what a replay depends on: cores 4 → 2/);
  });

  it('an unknown recorded rig: names both fingerprints, and the fields when the caller knows the recorded rig', () => {
    const theirs = rig({ id: 'lab-box', cores: 3 });
    const r = explore(theirs, abba, { strategy: 'pct', seed: 1, schedules: 3000 });
    expect(r.outcome).not.toBe('pass');
    const mine = rig({ id: 'lab-box', cores: 2 });
    expect(() => replay(mine, abba, r.failure!.schedule)).toThrow(/recorded on rig 'lab-box' \(fingerprint [0-9a-f]{8}\); the settings of this rig 'lab-box' \(fingerprint [0-9a-f]{8}\) differ from the ones it was recorded on/);
    expect(() => replay(mine, abba, r.failure!.schedule, { recordedRig: theirs })).toThrow(/cores 3 → 2/);
    expect(rigDifferences(theirs, mine)).toEqual(['cores 3 → 2']);
  });
});

describe('schedule strings decode only what encodes back the same', () => {
  const rec: ScheduleRecord = {
    scenarioId: 'a/b', scenarioVersion: 1, rigId: 'r', rigFingerprint: 1, steps: 10, outcome: 'deadlock', choices: [{ step: 3, kind: 'cpu', cpu: 1 }],
  };
  /** Signs a hand-made rb2 body, so the checksum does not hide what the decoder itself accepts. */
  function resign(body: number[]): string {
    let c = 0xffffffff;
    const table = new Uint32Array(256).map((_, n) => {
      let x = n;
      for (let k = 0; k < 8; k++) x = x & 1 ? 0xedb88320 ^ (x >>> 1) : x >>> 1;
      return x >>> 0;
    });
    for (const b of body) c = table[(c ^ b) & 0xff]! ^ (c >>> 8);
    c = (c ^ 0xffffffff) >>> 0;
    const bytes = [...body, c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24];
    return 'rb2.' + btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  /** Format 2, then the critical header fields (tag = id·2+1, length, value; a text value is its own length, then UTF-8): scenario id, version, rig id, fingerprint. */
  const id = (bytes: number[]): number[] => [3, bytes.length + 1, bytes.length, ...bytes];
  const head = (scenario = [97, 47, 98]): number[] => [2, ...id(scenario), 5, 1, 1, 7, 2, 1, 114, 9, 4, 1, 0, 0, 0];
  /** steps = 10, outcome deadlock (2), end of header, one choice: 3 steps on, CPU 1 (1·8 + kind 0). */
  const tail = (steps = [10]): number[] => [11, steps.length, ...steps, 13, 1, 2, 0, 1, 3, 8];

  it('refuses a number with redundant zero bytes, an id that is not UTF-8, a choice beyond the run', () => {
    expect(resign([...head(), ...tail()])).toBe(encodeSchedule(rec));
    expect(decodeSchedule(resign([...head(), ...tail()])).choices).toEqual(rec.choices);
    expect(() => decodeSchedule(resign([...head(), ...tail([0x8a, 0x00])]))).toThrow(/steps is not a canonical number/);
    expect(() => decodeSchedule(resign([...head([0xff, 0xfe, 0x41]), ...tail()]))).toThrow(/scenario id is not UTF-8/);
    const beyond = resign([...head(), 11, 1, 10, 13, 1, 2, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 8]);
    expect(() => decodeSchedule(beyond)).toThrow(ScheduleError);
    try {
      decodeSchedule(beyond);
    } catch (e) {
      expect((e as ScheduleError).field).toBe('choices');
    }
  });
});
