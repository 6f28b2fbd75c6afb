/**
 * Schedules as compact, versioned, URL-safe strings (format rb2, see
 * docs/schedules.md): "rb2." + base64url of a varint record — a header of
 * tagged fields (scenario id and version, rig id and fingerprint, the run's
 * length and outcome, and where the schedule came from: strategy or
 * portfolio member, seed, schedule index, a hand-made prefix) and the choices
 * where the engine did something other than its default, each a (step, kind,
 * operands) entry — closed by a CRC-32, so a truncated or mangled string is
 * refused with a reason instead of replaying something else.
 *
 * Room to grow without another format: a header field a reader does not know
 * is skipped unless its tag says it is critical (then the string is refused);
 * a choice kind a reader does not know is refused by number.
 */
import type { OutcomeKind } from './outcome.ts';
import { MAX_STALE_READS, STORE_BUFFER_DEPTH } from '../machine/weak-memory.ts';
import { bufferedChoice, decodeWeakChoice, flushChoice, MAX_EVENT_CHOICES, MAX_TIMER_CHOICES, staleChoice, timerChoiceBase, weakChoiceBase } from './strategy.ts';

export const SCHEDULE_PREFIX = 'rb2.';
const FORMAT_VERSION = 2;
const OUTCOMES: OutcomeKind[] = ['pass', 'bugcheck', 'deadlock', 'hang', 'invariant', 'error'];

/** What the engine chose at one step, where that differs from its default. */
export type ScheduleChoice =
  /** Step this CPU's top context. */
  | { step: number; kind: 'cpu'; cpu: number }
  /** End the running thread's quantum on this CPU. */
  | { step: number; kind: 'quantum-end'; cpu: number }
  /** Fire asynchronous event `event`: its index in the run's event list (DPC and interrupt arrivals, wait timeouts, in creation order). */
  | { step: number; kind: 'event'; event: number }
  /** Expire kernel timer `timer`: its index in the order the run initialized its KTIMERs (wait timeouts are events). */
  | { step: number; kind: 'timer'; timer: number }
  /** Make store-buffer entry `entry` of a CPU visible to the others (0 = its oldest buffered store). */
  | { step: number; kind: 'store-flush'; cpu: number; entry: number }
  /** Step this CPU's top context with its ordering-API store kept in the CPU's store buffer. */
  | { step: number; kind: 'store-buffered'; cpu: number }
  /** Step this CPU's top context with its ordering-API read returning the k-th older value it may still see (ARM64). */
  | { step: number; kind: 'stale-read'; cpu: number; k: number };

export type ChoiceKind = ScheduleChoice['kind'];

/** Choice kinds on the wire; kind 7 escapes to a numbered extension kind. */
const KIND_CODES: Record<ChoiceKind, number> = { cpu: 0, 'quantum-end': 1, event: 2, timer: 3, 'store-flush': 4, 'store-buffered': 5, 'stale-read': 6 };
const EXTENDED_KIND = 7;

/** Where a schedule came from. */
export interface ScheduleOrigin {
  /** Strategy name (random, pct, dfs, portfolio, …). */
  strategy: string;
  /** The portfolio member that found it (e.g. "pct:3"), when a portfolio ran. */
  member?: string;
  seed?: number;
  /** Schedule index within the exploration. */
  index?: number;
}

export interface ScheduleRecord {
  scenarioId: string;
  scenarioVersion: number;
  rigId: string;
  rigFingerprint: number;
  steps: number;
  outcome: OutcomeKind;
  origin?: ScheduleOrigin;
  /** The first this-many choices were picked by hand; a search continued from there. */
  handMadePrefix?: number;
  /** Steps ascending, at most one choice per step. */
  choices: ScheduleChoice[];
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

/**
 * Header field ids. On the wire a tag is id·2 + critical: a reader that meets
 * an unknown critical field refuses the string, an unknown other field is skipped.
 */
const F_SCENARIO_ID = 1;
const F_SCENARIO_VERSION = 2;
const F_RIG_ID = 3;
const F_RIG_FINGERPRINT = 4;
const F_STEPS = 5;
const F_OUTCOME = 6;
const F_STRATEGY = 7;
const F_MEMBER = 8;
const F_SEED = 9;
const F_INDEX = 10;
const F_HAND_MADE_PREFIX = 11;
const REQUIRED = [F_SCENARIO_ID, F_SCENARIO_VERSION, F_RIG_ID, F_RIG_FINGERPRINT, F_STEPS, F_OUTCOME];
const FIELD_NAMES: Record<number, string> = {
  [F_SCENARIO_ID]: 'scenario id', [F_SCENARIO_VERSION]: 'scenario version', [F_RIG_ID]: 'rig id',
  [F_RIG_FINGERPRINT]: 'rig fingerprint', [F_STEPS]: 'steps', [F_OUTCOME]: 'outcome',
  [F_STRATEGY]: 'strategy', [F_MEMBER]: 'portfolio member', [F_SEED]: 'seed', [F_INDEX]: 'schedule index',
  [F_HAND_MADE_PREFIX]: 'hand-made prefix',
};

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
  raw(b: Uint8Array): void {
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
  /** The part being read, named in errors. */
  field = 'schedule';
  constructor(private readonly b: Uint8Array) {}
  get left(): number {
    return this.b.length - this.pos;
  }
  sub(n: number): Reader {
    if (n > this.left) throw new ScheduleError(`schedule is truncated (in its ${this.field})`, this.field);
    const r = new Reader(this.b.subarray(this.pos, this.pos + n));
    r.field = this.field;
    this.pos += n;
    return r;
  }
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

/** A header field: tag, length, value (written by `value` into a scratch writer). */
function field(w: Writer, id: number, critical: boolean, value: (v: Writer) => void): void {
  const v = new Writer();
  value(v);
  w.varint(id * 2 + (critical ? 1 : 0));
  w.varint(v.len);
  w.raw(v.bytes());
}

export function encodeSchedule(r: ScheduleRecord): string {
  const w = new Writer();
  w.byte(FORMAT_VERSION);
  field(w, F_SCENARIO_ID, true, (v) => v.str(r.scenarioId));
  field(w, F_SCENARIO_VERSION, true, (v) => v.varint(r.scenarioVersion));
  field(w, F_RIG_ID, true, (v) => v.str(r.rigId));
  field(w, F_RIG_FINGERPRINT, true, (v) => v.u32(r.rigFingerprint));
  field(w, F_STEPS, true, (v) => v.varint(r.steps));
  field(w, F_OUTCOME, true, (v) => v.byte(OUTCOMES.indexOf(r.outcome)));
  const o = r.origin;
  if (o) {
    field(w, F_STRATEGY, false, (v) => v.str(o.strategy));
    if (o.member !== undefined) field(w, F_MEMBER, false, (v) => v.str(o.member!));
    if (o.seed !== undefined) field(w, F_SEED, false, (v) => v.varint(o.seed!));
    if (o.index !== undefined) field(w, F_INDEX, false, (v) => v.varint(o.index!));
  }
  if (r.handMadePrefix !== undefined) field(w, F_HAND_MADE_PREFIX, false, (v) => v.varint(r.handMadePrefix!));
  w.varint(0);
  w.varint(r.choices.length);
  let prev = 0;
  for (const c of r.choices) {
    if (c.step < prev) throw new ScheduleError(`cannot encode a schedule whose choices are not in step order (step ${c.step} after ${prev})`);
    w.varint(c.step - prev);
    prev = c.step;
    // The first operand shares a varint with the kind: one byte for a CPU below 16.
    switch (c.kind) {
      case 'cpu':
      case 'quantum-end':
        w.varint(c.cpu * 8 + KIND_CODES[c.kind]);
        break;
      case 'event':
        w.varint(c.event * 8 + KIND_CODES.event);
        break;
      case 'timer':
        w.varint(c.timer * 8 + KIND_CODES.timer);
        break;
      case 'store-flush':
        w.varint(c.cpu * 8 + KIND_CODES['store-flush']);
        w.varint(c.entry);
        break;
      case 'store-buffered':
        w.varint(c.cpu * 8 + KIND_CODES['store-buffered']);
        break;
      case 'stale-read':
        w.varint(c.cpu * 8 + KIND_CODES['stale-read']);
        w.varint(c.k);
        break;
    }
  }
  const body = w.bytes();
  w.u32(crc32(body));
  return SCHEDULE_PREFIX + toBase64Url(w.bytes());
}

/** The format of a schedule string: 'current' (this version replays it), 'older', 'newer', or 'none' (not a Racebox schedule). */
export function scheduleFormat(text: string): 'current' | 'older' | 'newer' | 'none' {
  const m = /^rb(\d+)\./.exec(text.trim());
  if (!m) return 'none';
  const v = Number(m[1]);
  return v === FORMAT_VERSION ? 'current' : v < FORMAT_VERSION ? 'older' : 'newer';
}

/** Longest schedule string decoded (a run of 100 million steps with a switch every few steps fits). */
export const MAX_SCHEDULE_CHARS = 64 * 1024 * 1024;

export function decodeSchedule(text: string): ScheduleRecord {
  if (typeof text !== 'string') throw new ScheduleError('a schedule must be text', 'schedule');
  if (text.length > MAX_SCHEDULE_CHARS) throw new ScheduleError(`schedule is too long (${text.length} characters; at most ${MAX_SCHEDULE_CHARS})`, 'schedule');
  const s = text.trim();
  const format = scheduleFormat(s);
  if (format === 'none') throw new ScheduleError(`not a Racebox schedule (it should start with "${SCHEDULE_PREFIX}")`, 'prefix');
  const name = s.slice(0, s.indexOf('.'));
  if (format === 'older') throw new ScheduleError(`this schedule was recorded by an older Racebox (format ${name}); run the scenario again to get a new one`, 'prefix');
  if (format === 'newer') throw new ScheduleError(`this schedule was recorded by a newer Racebox (format ${name}); this version reads ${SCHEDULE_PREFIX.slice(0, -1)}`, 'prefix');
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
  if (version !== FORMAT_VERSION) throw new ScheduleError(`schedule is malformed (format byte ${version} under the ${SCHEDULE_PREFIX} prefix)`, 'format version');
  b.field = 'header';
  const rec = readHeader(b);
  b.field = 'choices';
  const n = b.varint();
  if (n > body.length) throw new ScheduleError('schedule is malformed (more choices than it has bytes)', 'choices');
  let step = 0;
  for (let i = 0; i < n; i++) {
    step += b.varint();
    if (i > 0 && step === rec.choices[i - 1]!.step) throw new ScheduleError(`schedule is malformed (two choices at step ${step})`, 'choices');
    rec.choices.push(readChoice(b, step));
  }
  if (b.pos !== body.length) throw new ScheduleError('schedule is malformed (trailing bytes)', 'payload');
  if (rec.handMadePrefix !== undefined && rec.handMadePrefix > n) throw new ScheduleError(`schedule is malformed (a hand-made prefix of ${rec.handMadePrefix} choices, but only ${n} choices)`, 'choices');
  if (n > 0 && rec.choices[n - 1]!.step > rec.steps) throw new ScheduleError(`schedule is malformed (a choice at step ${rec.choices[n - 1]!.step} of a ${rec.steps}-step run)`, 'choices');
  return rec;
}

function readHeader(b: Reader): ScheduleRecord {
  const seen = new Set<number>();
  const rec: Partial<ScheduleRecord> & { choices: ScheduleChoice[] } = { choices: [] };
  const origin: Partial<ScheduleOrigin> = {};
  for (;;) {
    const tag = b.varint();
    if (tag === 0) break;
    const id = Math.floor(tag / 2);
    const len = b.varint();
    const v = b.sub(len);
    v.field = FIELD_NAMES[id] ?? 'header';
    if (seen.has(id)) throw new ScheduleError(`schedule is malformed (header field ${id} appears twice)`, 'header');
    seen.add(id);
    switch (id) {
      case F_SCENARIO_ID: rec.scenarioId = v.str(); break;
      case F_SCENARIO_VERSION: rec.scenarioVersion = v.varint(); break;
      case F_RIG_ID: rec.rigId = v.str(); break;
      case F_RIG_FINGERPRINT: rec.rigFingerprint = v.u32(); break;
      case F_STEPS: rec.steps = v.varint(); break;
      case F_OUTCOME: {
        const o = OUTCOMES[v.byte()];
        if (!o) throw new ScheduleError('schedule is malformed (unknown outcome)', 'header');
        rec.outcome = o;
        break;
      }
      case F_STRATEGY: origin.strategy = v.str(); break;
      case F_MEMBER: origin.member = v.str(); break;
      case F_SEED: origin.seed = v.varint(); break;
      case F_INDEX: origin.index = v.varint(); break;
      case F_HAND_MADE_PREFIX: rec.handMadePrefix = v.varint(); break;
      default:
        if (tag % 2 === 1) throw new ScheduleError(`this schedule needs header field ${id}, which this version of Racebox does not know; update Racebox to replay it`, 'header');
        continue;
    }
    if (v.left !== 0) throw new ScheduleError(`schedule is malformed (header field ${id} is longer than its value)`, 'header');
  }
  for (const id of REQUIRED) if (!seen.has(id)) throw new ScheduleError(`schedule is malformed (no ${FIELD_NAMES[id]})`, 'header');
  if (origin.strategy !== undefined) rec.origin = origin as ScheduleOrigin;
  else if (Object.keys(origin).length !== 0) throw new ScheduleError('schedule is malformed (an origin without a strategy)', 'header');
  return rec as ScheduleRecord;
}

function readChoice(b: Reader, step: number): ScheduleChoice {
  const head = b.varint();
  const kind = head % 8;
  const a = Math.floor(head / 8);
  switch (kind) {
    case 0: return { step, kind: 'cpu', cpu: a };
    case 1: return { step, kind: 'quantum-end', cpu: a };
    case 2: return { step, kind: 'event', event: a };
    case 3: return { step, kind: 'timer', timer: a };
    case 4: {
      const entry = b.varint();
      if (entry >= STORE_BUFFER_DEPTH) throw new ScheduleError(`schedule is malformed (a store-buffer flush of entry ${entry} at step ${step}; a store buffer holds ${STORE_BUFFER_DEPTH})`, 'choices');
      return { step, kind: 'store-flush', cpu: a, entry };
    }
    case 5: return { step, kind: 'store-buffered', cpu: a };
    case 6: {
      const k = b.varint();
      if (k < 1 || k > MAX_STALE_READS) throw new ScheduleError(`schedule is malformed (a read of older value ${k} at step ${step}; 1 to ${MAX_STALE_READS})`, 'choices');
      return { step, kind: 'stale-read', cpu: a, k };
    }
    case EXTENDED_KIND:
      throw new ScheduleError(`this schedule uses choice kind ${8 + a} at step ${step}, which this version of Racebox does not know; update Racebox to replay it`, 'choices');
    default:
      throw new ScheduleError(`this schedule uses choice kind ${kind} at step ${step}, which this version of Racebox does not know; update Racebox to replay it`, 'choices');
  }
}

/**
 * The engine's (step, choice id) pairs as schedule choices. A choice id is a
 * CPU (0..n-1), a quantum end on CPU i (n+i), async event j (2n+j), the
 * expiry of timer i (timerChoiceBase(n)+i) or a weak-memory choice
 * (weakChoiceBase(n)+…, strategy.ts), for a rig of n logical CPUs.
 */
export function choicesFromDeviations(deviations: Int32Array, cpuCount: number): ScheduleChoice[] {
  const out: ScheduleChoice[] = [];
  for (let i = 0; i + 1 < deviations.length; i += 2) {
    const step = deviations[i]!;
    const c = deviations[i + 1]!;
    if (c < cpuCount) out.push({ step, kind: 'cpu', cpu: c });
    else if (c < 2 * cpuCount) out.push({ step, kind: 'quantum-end', cpu: c - cpuCount });
    else if (c < timerChoiceBase(cpuCount)) out.push({ step, kind: 'event', event: c - 2 * cpuCount });
    else if (c < weakChoiceBase(cpuCount)) out.push({ step, kind: 'timer', timer: c - timerChoiceBase(cpuCount) });
    else {
      const w = decodeWeakChoice(c, cpuCount);
      if (w === null) throw new ScheduleError(`cannot encode choice ${c} at step ${step} in a schedule`);
      if (w.kind === 'buffered') out.push({ step, kind: 'store-buffered', cpu: w.cpu });
      else if (w.kind === 'stale') out.push({ step, kind: 'stale-read', cpu: w.cpu, k: w.k });
      else out.push({ step, kind: 'store-flush', cpu: w.cpu, entry: w.entry });
    }
  }
  return out;
}

/** Schedule choices as the engine's (step, choice id) pairs; refuses what this engine cannot replay. */
export function deviationsFromChoices(choices: readonly ScheduleChoice[], cpuCount: number): Int32Array {
  const out = new Int32Array(2 * choices.length);
  choices.forEach((c, i) => {
    let id: number;
    switch (c.kind) {
      case 'cpu':
      case 'quantum-end':
        if (c.cpu >= cpuCount) throw new ScheduleError(`schedule names CPU ${c.cpu} at step ${c.step}; this rig has ${cpuCount}`);
        id = c.kind === 'cpu' ? c.cpu : cpuCount + c.cpu;
        break;
      case 'event':
        if (c.event >= MAX_EVENT_CHOICES) throw new ScheduleError(`schedule names event ${c.event} at step ${c.step}; a run has at most ${MAX_EVENT_CHOICES}`);
        id = 2 * cpuCount + c.event;
        break;
      case 'timer':
        if (c.timer >= MAX_TIMER_CHOICES) throw new ScheduleError(`schedule names timer ${c.timer} at step ${c.step}; a run has at most ${MAX_TIMER_CHOICES}`);
        id = timerChoiceBase(cpuCount) + c.timer;
        break;
      case 'store-flush':
      case 'store-buffered':
      case 'stale-read':
        if (c.cpu >= cpuCount) throw new ScheduleError(`schedule names CPU ${c.cpu} at step ${c.step}; this rig has ${cpuCount}`);
        if (c.kind === 'store-buffered') id = bufferedChoice(cpuCount, c.cpu);
        else if (c.kind === 'stale-read') {
          if (!(c.k >= 1 && c.k <= MAX_STALE_READS)) throw new ScheduleError(`schedule is malformed (a read of older value ${c.k} at step ${c.step}; 1 to ${MAX_STALE_READS})`);
          id = staleChoice(cpuCount, c.cpu, c.k);
        } else {
          if (!(c.entry >= 0 && c.entry < STORE_BUFFER_DEPTH)) throw new ScheduleError(`schedule is malformed (a store-buffer flush of entry ${c.entry} at step ${c.step}; a store buffer holds ${STORE_BUFFER_DEPTH})`);
          id = flushChoice(cpuCount, c.cpu, c.entry);
        }
        break;
      default:
        throw new ScheduleError(`this schedule has a '${(c as ScheduleChoice).kind}' choice at step ${(c as ScheduleChoice).step}, which this engine cannot replay`);
    }
    if (id > 0x7fffffff) throw new ScheduleError(`schedule is malformed (choice at step ${c.step} is out of range)`);
    out[2 * i] = c.step;
    out[2 * i + 1] = id;
  });
  return out;
}
