/**
 * Hostile-input suite: schedule strings (decodeSchedule, replay). A mutated
 * string is either refused with a ScheduleError naming the part that is wrong,
 * or decodes to a record that encodes back to exactly that string (so its
 * checksum is valid and nothing was read differently from how it was written).
 * Replay of a mutated string either refuses it (ScheduleError) or runs and
 * reports: never a TypeError or RangeError.
 */
import { describe, expect, it } from 'vitest';
import { explore, replay } from '../../src/engine/explore.ts';
import { bufferedChoice, flushChoice, staleChoice, weakChoiceBase } from '../../src/engine/strategy.ts';
import { MAX_STALE_READS, STORE_BUFFER_DEPTH } from '../../src/machine/weak-memory.ts';
import { crc32, decodeSchedule, encodeSchedule, ScheduleError, type ScheduleRecord, choicesFromDeviations } from '../../src/engine/schedule.ts';
import type { OutcomeKind } from '../../src/engine/outcome.ts';
import type { Rig } from '../../src/machine/rig.ts';
import type { Scenario } from '../../src/scenario/define.ts';
import abba from '../../scenarios/spinlock/abba.ts';
import irqlAsLock from '../../scenarios/spinlock/irql-as-lock.ts';
import naiveTas from '../../scenarios/spinlock/naive-tas.ts';
import recursive from '../../scenarios/spinlock/recursive-acquire.ts';
import { preset } from '../helpers.ts';
import { isCrash, mutateText, pick, report, Rng, thrown } from './mutate.ts';

const FIELDS = new Set([
  'schedule', 'prefix', 'payload', 'checksum', 'format version', 'scenario version', 'scenario id', 'rig id', 'rig fingerprint',
  'steps', 'outcome', 'switches', 'switch step', 'switch choice', 'scenario', 'rig',
]);
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function toB64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
function fromB64(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
/** The string's body bytes mutated and the checksum recomputed: what gets past the CRC to the decoder itself. */
function resigned(rng: Rng, s: string): string {
  const bytes = fromB64(s.slice(4));
  const body = Array.from(bytes.subarray(0, bytes.length - 4));
  const edits = 1 + rng.int(3);
  for (let e = 0; e < edits; e++) {
    const i = rng.int(body.length + 1);
    switch (rng.int(5)) {
      case 0:
        body[Math.min(i, body.length - 1)] = rng.int(256);
        break;
      case 1:
        body.splice(i, 0, rng.int(256));
        break;
      case 2:
        body.splice(i, 1 + rng.int(4));
        break;
      case 3:
        body[Math.min(i, body.length - 1)] ^= 1 << rng.int(8);
        break;
      default:
        body.splice(i, 0, 0x80 | rng.int(128), 0x80, 0x00);
    }
  }
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(out.subarray(0, body.length)), true);
  return `rb1.${toB64(out)}`;
}

interface Case {
  rig: Rig;
  scenario: Scenario;
  schedule: string;
  outcome: OutcomeKind;
}

describe('fuzz: schedule strings', () => {
  it('refuses every mangled schedule with its reason, accepts every valid one, never crashes', () => {
    const rng = new Rng(0x5c4ed);
    // Valid: failures found by real explorations (replayed too), and encoded random records.
    const real: Case[] = [];
    for (const [rig, scenario] of [
      [preset('quad-free'), abba], [preset('dual-opteron-240'), irqlAsLock], [preset('dual-opteron-240'), recursive],
      [preset('dual-opteron-240'), naiveTas], [preset('uniprocessor'), naiveTas], [preset('quad-free'), irqlAsLock],
    ] as const) {
      for (const strategy of ['pct', 'random'] as const) {
        const r = explore(rig, scenario, { strategy, seed: 1 + real.length, schedules: 3000 });
        if (r.outcome !== 'pass') real.push({ rig, scenario, schedule: r.failure!.schedule, outcome: r.outcome });
      }
    }
    expect(real.length).toBeGreaterThanOrEqual(8);
    const valid: string[] = real.map((c) => c.schedule);
    const outcomes: OutcomeKind[] = ['pass', 'bugcheck', 'deadlock', 'hang', 'invariant', 'error'];
    for (let i = 0; i < 60; i++) {
      const n = rng.int(20);
      const dev: number[] = [];
      let step = 0;
      for (let j = 0; j < n; j++) {
        step += 1 + rng.int(i % 7 === 0 ? 2 ** 30 / 20 : 500);
        // Any id below the weak-memory ones (CPU, quantum end, event, timer), else a weak-memory choice with valid operands.
        const k = rng.int(4);
        const c = i % 5 === 0 && k === 0 ? rng.int(weakChoiceBase(4))
          : k === 1 ? bufferedChoice(4, rng.int(4))
          : k === 2 ? staleChoice(4, rng.int(4), 1 + rng.int(MAX_STALE_READS))
          : k === 3 ? flushChoice(4, rng.int(4), rng.int(STORE_BUFFER_DEPTH))
          : rng.int(64);
        dev.push(step, c);
      }
      const rec: ScheduleRecord = {
        scenarioId: pick(rng, ['a/b', 'cancel/queue-then-set', 'ünïcødé/💥', 'x'.repeat(rng.int(300)), '']),
        scenarioVersion: pick(rng, [0, 1, 7, 2 ** 31, Number.MAX_SAFE_INTEGER]),
        rigId: pick(rng, ['dual-opteron-240', 'r', '']),
        rigFingerprint: rng.u32(),
        steps: pick(rng, [step, step + 1, step + rng.int(1000), 2 ** 40]),
        outcome: pick(rng, outcomes),
        choices: choicesFromDeviations(Int32Array.from(dev), 4),
      };
      valid.push(encodeSchedule(rec));
    }
    for (const s of valid) {
      const rec = decodeSchedule(s);
      expect(encodeSchedule(rec), s).toBe(s);
    }
    for (const c of real) expect(replay(c.rig, c.scenario, c.schedule).summary.outcome).toBe(c.outcome);

    let refused = 0;
    let acceptedSame = 0;
    let replays = 0;
    const MUTATED = 3000;
    for (let i = 0; i < MUTATED; i++) {
      const base = pick(rng, valid);
      const m = i % 3 === 2 ? resigned(rng, base) : mutateText(rng, base, i % 2 ? B64 : `${B64}.=+/ rb2`);
      let rec: ScheduleRecord | undefined;
      const e = thrown(() => {
        rec = decodeSchedule(m);
      });
      if (e === undefined) {
        // Accepted: only as a record that encodes to a string that reads back as the same record (rb2 skips
        // header fields it does not know and that are not marked critical, so the text may differ).
        expect(decodeSchedule(encodeSchedule(rec!)), `case ${i}: ${m.slice(0, 200)}`).toEqual(rec);
        acceptedSame++;
      } else {
        expect(isCrash(e), `case ${i} crashed: ${String(e)}`).toBe(false);
        expect(e, `case ${i}`).toBeInstanceOf(ScheduleError);
        const se = e as ScheduleError;
        expect(FIELDS.has(se.field), `case ${i}: field ${se.field}`).toBe(true);
        expect(se.message.length, `case ${i}`).toBeLessThanOrEqual(300);
        refused++;
      }
      // A fifth of the mutations of a real schedule are replayed on its own rig and scenario.
      const c = real.find((x) => x.schedule === base);
      if (c && i % 5 === 0) {
        const r = thrown(() => replay(c.rig, c.scenario, m));
        if (r !== undefined) {
          expect(isCrash(r), `replay ${i} crashed: ${String(r)}`).toBe(false);
          expect(r, `replay ${i}`).toBeInstanceOf(ScheduleError);
        }
        replays++;
      }
    }
    report('schedules', { mutated: MUTATED, refused, 'accepted (each reads back as the same record)': acceptedSame, 'mutated replays': replays, valid: valid.length, 'valid replays': real.length, crashes: 0 });
    expect(refused + acceptedSame).toBe(MUTATED);
  }, 60_000);
});
