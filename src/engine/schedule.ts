/**
 * Schedules as compact, versioned, URL-safe strings: "rb1." + base64url of
 * a varint record (scenario id and version, rig id and fingerprint, the run's
 * length and outcome, and the steps where the engine chose something other
 * than its default), closed by a CRC-32 so a truncated or mangled string is
 * refused with a reason instead of replaying something else.
 */
import { quote } from '../machine/text.ts';
import type { OutcomeKind } from './outcome.ts';

export const SCHEDULE_PREFIX = 'rb1.';
const FORMAT_VERSION = 1;
const OUTCOMES: OutcomeKind[] = ['pass', 'bugcheck', 'deadlock', 'hang', 'invariant', 'error'];

export interface ScheduleRecord {
  scenarioId: string;
  scenarioVersion: number;
  rigId: string;
  rigFingerprint: number;
  steps: number;
  outcome: OutcomeKind;
  /** (step, choice) pairs, steps ascending. */
  deviations: Int32Array;
}

export class ScheduleError extends Error {
  constructor(
    message: string,
    /** What was wrong: a part of the string (`prefix`, `checksum`, `steps`, ...) or what it was checked against (`rig`, `scenario`). */
    readonly field = 'schedule',
  ) {
    super(message);
    this.name = 'ScheduleError';
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

class Writer {
  private buf = new Uint8Array(64);
  len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    b.set(this.buf);
    this.buf = b;
  }
  byte(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
  }
  varint(v: number): void {
    if (!Number.isInteger(v) || v < 0) throw new ScheduleError(`cannot encode ${v} in a schedule`);
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }
  u32(v: number): void {
    for (let i = 0; i < 4; i++) this.byte((v >>> (8 * i)) & 0xff);
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  /** The part being read, named in errors. */
  field = 'schedule';
  byte(): number {
    if (this.pos >= this.b.length) throw new ScheduleError(`schedule is truncated (in its ${this.field})`, this.field);
    return this.b[this.pos++]!;
  }
  /**
   * Only the encoding the writer makes is read (no redundant zero bytes, at most
   * `max`): anything else would decode to a record that encodes differently.
   */
  varint(max = Number.MAX_SAFE_INTEGER): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const x = this.byte();
      v += (x & 0x7f) * mul;
      if ((x & 0x80) === 0) {
        if (x === 0 && i > 0) throw new ScheduleError(`schedule is malformed (its ${this.field} is not a canonical number)`, this.field);
        if (v > max) throw new ScheduleError(`schedule is malformed (its ${this.field} is ${v}; at most ${max})`, this.field);
        return v;
      }
      mul *= 128;
    }
    throw new ScheduleError(`schedule is malformed (its ${this.field} is too long a number)`, this.field);
  }
  u32(): number {
    let v = 0;
    for (let i = 0; i < 4; i++) v += this.byte() * 2 ** (8 * i);
    return v >>> 0;
  }
  str(): string {
    const n = this.varint();
    if (this.pos + n > this.b.length) throw new ScheduleError(`schedule is truncated (in its ${this.field})`, this.field);
    let s: string;
    try {
      // fatal: bytes that are not UTF-8 would decode to U+FFFD and encode back differently.
      s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(this.b.subarray(this.pos, this.pos + n));
    } catch {
      throw new ScheduleError(`schedule is malformed (its ${this.field} is not UTF-8 text)`, this.field);
    }
    this.pos += n;
    return s;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new ScheduleError('schedule contains characters that are not base64url', 'payload');
  const pad = s.length % 4 === 2 ? '==' : s.length % 4 === 3 ? '=' : s.length % 4 === 1 ? null : '';
  if (pad === null) throw new ScheduleError('schedule is truncated (its length is impossible)', 'payload');
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + pad);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function encodeSchedule(r: ScheduleRecord): string {
  const w = new Writer();
  w.byte(FORMAT_VERSION);
  w.varint(r.scenarioVersion);
  w.str(r.scenarioId);
  w.str(r.rigId);
  w.u32(r.rigFingerprint);
  w.varint(r.steps);
  w.byte(OUTCOMES.indexOf(r.outcome));
  const n = r.deviations.length / 2;
  w.varint(n);
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const step = r.deviations[2 * i]!;
    w.varint(step - prev);
    w.varint(r.deviations[2 * i + 1]!);
    prev = step;
  }
  const body = w.bytes();
  w.u32(crc32(body));
  return SCHEDULE_PREFIX + toBase64Url(w.bytes());
}

/** Longest schedule string decoded (a run of 100 million steps with a switch every few steps fits). */
export const MAX_SCHEDULE_CHARS = 64 * 1024 * 1024;

export function decodeSchedule(text: string): ScheduleRecord {
  if (typeof text !== 'string') throw new ScheduleError('a schedule must be text', 'schedule');
  if (text.length > MAX_SCHEDULE_CHARS) throw new ScheduleError(`schedule is too long (${text.length} characters; at most ${MAX_SCHEDULE_CHARS})`, 'schedule');
  const s = text.trim();
  if (!s.startsWith('rb')) throw new ScheduleError('not a Racebox schedule (it should start with "rb1.")', 'prefix');
  if (!s.startsWith(SCHEDULE_PREFIX)) {
    throw new ScheduleError(`schedule format ${quote(s.slice(0, Math.max(0, s.indexOf('.') + 1)), 16)} is not supported by this version (expected "${SCHEDULE_PREFIX}")`, 'prefix');
  }
  const payload = s.slice(SCHEDULE_PREFIX.length);
  const bytes = fromBase64Url(payload);
  // base64 leaves unused bits in the last character: a string that is not the canonical encoding was altered.
  if (toBase64Url(bytes) !== payload) throw new ScheduleError('schedule is corrupted (its last character was altered)', 'payload');
  if (bytes.length < 5) throw new ScheduleError('schedule is truncated', 'payload');
  const body = bytes.subarray(0, bytes.length - 4);
  const r = new Reader(bytes.subarray(bytes.length - 4));
  if (r.u32() !== crc32(body)) throw new ScheduleError('schedule is truncated or corrupted (checksum mismatch)', 'checksum');
  const b = new Reader(body);
  b.field = 'format version';
  const version = b.byte();
  if (version !== FORMAT_VERSION) throw new ScheduleError(`schedule format ${version} is not supported`, b.field);
  b.field = 'scenario version';
  const scenarioVersion = b.varint();
  b.field = 'scenario id';
  const scenarioId = b.str();
  b.field = 'rig id';
  const rigId = b.str();
  b.field = 'rig fingerprint';
  const rigFingerprint = b.u32();
  b.field = 'steps';
  const steps = b.varint();
  b.field = 'outcome';
  const outcome = OUTCOMES[b.byte()];
  if (!outcome) throw new ScheduleError('schedule is malformed (unknown outcome)', b.field);
  b.field = 'switches';
  const n = b.varint();
  if (n > body.length) throw new ScheduleError('schedule is malformed (too many switches for its length)', b.field);
  const deviations = new Int32Array(2 * n);
  let step = 0;
  for (let i = 0; i < n; i++) {
    // Steps and choices are stored in an Int32Array: a larger value would wrap.
    b.field = 'switch step';
    step += b.varint(INT32_MAX);
    if (step > INT32_MAX) throw new ScheduleError(`schedule is malformed (a switch at step ${step}; at most ${INT32_MAX})`, b.field);
    deviations[2 * i] = step;
    b.field = 'switch choice';
    deviations[2 * i + 1] = b.varint(INT32_MAX);
  }
  if (b.pos !== body.length) throw new ScheduleError('schedule is malformed (trailing bytes)', 'payload');
  return { scenarioId, scenarioVersion, rigId, rigFingerprint, steps, outcome, deviations };
}

const INT32_MAX = 0x7fffffff;
