/**
 * Schedules as compact, versioned, URL-safe strings: "rb1." + base64url of
 * a varint record (scenario id and version, rig id and fingerprint, the run's
 * length and outcome, and the steps where the engine chose something other
 * than its default), closed by a CRC-32 so a truncated or mangled string is
 * refused with a reason instead of replaying something else.
 */
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
  constructor(message: string) {
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
  byte(): number {
    if (this.pos >= this.b.length) throw new ScheduleError('schedule is truncated');
    return this.b[this.pos++]!;
  }
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const x = this.byte();
      v += (x & 0x7f) * mul;
      if ((x & 0x80) === 0) return v;
      mul *= 128;
    }
    throw new ScheduleError('schedule is malformed (a number is too long)');
  }
  u32(): number {
    let v = 0;
    for (let i = 0; i < 4; i++) v += this.byte() * 2 ** (8 * i);
    return v >>> 0;
  }
  str(): string {
    const n = this.varint();
    if (this.pos + n > this.b.length) throw new ScheduleError('schedule is truncated');
    const s = new TextDecoder().decode(this.b.subarray(this.pos, this.pos + n));
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
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new ScheduleError('schedule contains characters that are not base64url');
  const pad = s.length % 4 === 2 ? '==' : s.length % 4 === 3 ? '=' : s.length % 4 === 1 ? null : '';
  if (pad === null) throw new ScheduleError('schedule is truncated (its length is impossible)');
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

export function decodeSchedule(text: string): ScheduleRecord {
  const s = text.trim();
  if (!s.startsWith('rb')) throw new ScheduleError('not a Racebox schedule (it should start with "rb1.")');
  if (!s.startsWith(SCHEDULE_PREFIX)) throw new ScheduleError(`schedule format "${s.slice(0, s.indexOf('.') + 1)}" is not supported by this version (expected "${SCHEDULE_PREFIX}")`);
  const payload = s.slice(SCHEDULE_PREFIX.length);
  const bytes = fromBase64Url(payload);
  // base64 leaves unused bits in the last character: a string that is not the canonical encoding was altered.
  if (toBase64Url(bytes) !== payload) throw new ScheduleError('schedule is corrupted (its last character was altered)');
  if (bytes.length < 5) throw new ScheduleError('schedule is truncated');
  const body = bytes.subarray(0, bytes.length - 4);
  const r = new Reader(bytes.subarray(bytes.length - 4));
  if (r.u32() !== crc32(body)) throw new ScheduleError('schedule is truncated or corrupted (checksum mismatch)');
  const b = new Reader(body);
  const version = b.byte();
  if (version !== FORMAT_VERSION) throw new ScheduleError(`schedule format ${version} is not supported`);
  const scenarioVersion = b.varint();
  const scenarioId = b.str();
  const rigId = b.str();
  const rigFingerprint = b.u32();
  const steps = b.varint();
  const outcome = OUTCOMES[b.byte()];
  if (!outcome) throw new ScheduleError('schedule is malformed (unknown outcome)');
  const n = b.varint();
  if (n > body.length) throw new ScheduleError('schedule is malformed (too many switches for its length)');
  const deviations = new Int32Array(2 * n);
  let step = 0;
  for (let i = 0; i < n; i++) {
    step += b.varint();
    deviations[2 * i] = step;
    deviations[2 * i + 1] = b.varint();
  }
  if (b.pos !== body.length) throw new ScheduleError('schedule is malformed (trailing bytes)');
  return { scenarioId, scenarioVersion, rigId, rigFingerprint, steps, outcome, deviations };
}
