/**
 * The rig: the virtual machine a scenario runs on. Rig files live in rigs/ as
 * JSON; every field is validated with a message naming the field, so a typo in
 * a user's rig never turns into a silently different machine.
 */

import { clip, keyName, quote } from './text.ts';

export type Hal = 'mp' | 'up';
/**
 * The processor architecture, which decides the memory model: `x64` is x86-TSO (stores wait in a
 * FIFO store buffer), `arm64` is ARMv8 (loads and stores to different addresses reorder unless an
 * acquire, a release, a barrier or an address dependency orders them). See machine/weak-memory.ts.
 */
export type Arch = 'x64' | 'arm64';
export type Build = 'checked' | 'free';

export interface WatchdogSettings {
  /** Steps one schedule may take before the run is declared hung. */
  maxSteps: number;
  /**
   * Steps a CPU may spend at DISPATCH_LEVEL or above without returning below
   * it before a free build reports DPC_WATCHDOG_VIOLATION.
   */
  dpcTimeoutSteps: number;
}

/** Cycle costs for the timed mode (virtual clock per logical CPU). */
export interface CostModel {
  /** A memory access that hits the CPU's own cache. */
  localAccess: number;
  /** A read or write that must fetch a cache line owned by another core. */
  lineTransfer: number;
  /** An interlocked read-modify-write (bus lock or line ownership). */
  interlocked: number;
  /** One PAUSE in a spin loop. */
  pause: number;
  /** An IRQL change (a write to CR8). */
  irql: number;
}

export interface Rig {
  id: string;
  title: string;
  description?: string;
  cores: number;
  threadsPerCore: 1 | 2;
  /** Absent in a rig file: x64 (every rig before ARM64 support was an x86/AMD64 box). */
  arch: Arch;
  hal: Hal;
  build: Build;
  /**
   * A UP HAL on a multi-processor rig normally runs one CPU, as Windows would.
   * Set this to run every CPU anyway: the unsafe mix that shows why a driver
   * that is correct on one CPU breaks on two.
   */
  upHalOnAllCpus: boolean;
  /** Steps a thread runs at PASSIVE/APC level before its quantum ends. */
  quantum: number;
  watchdog: WatchdogSettings;
  /** Size of machine memory in 32-bit words. */
  memoryWords: number;
  cost: CostModel;
}

export interface FieldError {
  field: string;
  message: string;
}

export class RigError extends Error {
  constructor(
    readonly source: string,
    readonly errors: FieldError[],
  ) {
    super(`${source}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
    this.name = 'RigError';
  }
}

export const DEFAULT_WATCHDOG: WatchdogSettings = { maxSteps: 20_000, dpcTimeoutSteps: 5_000 };
export const DEFAULT_COST: CostModel = { localAccess: 4, lineTransfer: 100, interlocked: 40, pause: 10, irql: 2 };
export const DEFAULT_QUANTUM = 30;
export const DEFAULT_MEMORY_WORDS = 1 << 16;
export const MAX_LOGICAL_CPUS = 64;

const RIG_FIELDS = new Set([
  'id', 'title', 'description', 'cores', 'threadsPerCore', 'arch', 'hal', 'build', 'upHalOnAllCpus',
  'quantum', 'watchdog', 'memoryWords', 'cost', '$schema',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intIn(errors: FieldError[], field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    errors.push({ field, message: `must be an integer from ${min} to ${max} (got ${quote(v)})` });
    return min;
  }
  return v;
}

/** Validates a parsed rig document; returns the rig or every field error at once. */
export function validateRig(doc: unknown): { ok: true; rig: Rig } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (!isRecord(doc)) return { ok: false, errors: [{ field: '(rig)', message: 'must be a JSON object' }] };
  for (const key of Object.keys(doc)) {
    if (!RIG_FIELDS.has(key)) errors.push({ field: keyName(key), message: 'is not a rig field' });
  }
  const id = doc.id;
  if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(id)) {
    errors.push({ field: 'id', message: `must be 1-64 characters of a-z, 0-9, ".", "_" or "-" (got ${quote(id)})` });
  }
  const title = doc.title;
  if (typeof title !== 'string' || title.trim() === '') errors.push({ field: 'title', message: 'must be a non-empty string' });
  if (doc.description !== undefined && typeof doc.description !== 'string') {
    errors.push({ field: 'description', message: 'must be a string' });
  }
  const cores = intIn(errors, 'cores', doc.cores, 1, MAX_LOGICAL_CPUS);
  // null is not "absent": a field written as null is refused, not silently defaulted.
  const tpc = doc.threadsPerCore === undefined ? 1 : doc.threadsPerCore;
  if (tpc !== 1 && tpc !== 2) errors.push({ field: 'threadsPerCore', message: `must be 1 or 2 (got ${quote(tpc)})` });
  else if (cores * tpc > MAX_LOGICAL_CPUS) {
    errors.push({ field: 'cores', message: `cores × threadsPerCore must be at most ${MAX_LOGICAL_CPUS}` });
  }
  const arch = doc.arch === undefined ? 'x64' : doc.arch;
  if (arch !== 'x64' && arch !== 'arm64') errors.push({ field: 'arch', message: `must be "x64" or "arm64" (got ${quote(arch)})` });
  const hal = doc.hal;
  if (hal !== 'mp' && hal !== 'up') errors.push({ field: 'hal', message: `must be "mp" or "up" (got ${quote(hal)})` });
  const build = doc.build;
  if (build !== 'checked' && build !== 'free') {
    errors.push({ field: 'build', message: `must be "checked" or "free" (got ${quote(build)})` });
  }
  const upAll = doc.upHalOnAllCpus === undefined ? false : doc.upHalOnAllCpus;
  if (typeof upAll !== 'boolean') errors.push({ field: 'upHalOnAllCpus', message: 'must be true or false' });
  const quantum = doc.quantum === undefined ? DEFAULT_QUANTUM : intIn(errors, 'quantum', doc.quantum, 1, 1_000_000);
  const memoryWords =
    doc.memoryWords === undefined ? DEFAULT_MEMORY_WORDS : intIn(errors, 'memoryWords', doc.memoryWords, 1024, 1 << 24);

  const watchdog: WatchdogSettings = { ...DEFAULT_WATCHDOG };
  if (doc.watchdog !== undefined) {
    if (!isRecord(doc.watchdog)) errors.push({ field: 'watchdog', message: 'must be an object' });
    else {
      for (const key of Object.keys(doc.watchdog)) {
        if (!Object.hasOwn(DEFAULT_WATCHDOG, key)) errors.push({ field: `watchdog.${keyName(key)}`, message: 'is not a watchdog setting' });
      }
      if (doc.watchdog.maxSteps !== undefined) {
        watchdog.maxSteps = intIn(errors, 'watchdog.maxSteps', doc.watchdog.maxSteps, 100, 100_000_000);
      }
      if (doc.watchdog.dpcTimeoutSteps !== undefined) {
        watchdog.dpcTimeoutSteps = intIn(errors, 'watchdog.dpcTimeoutSteps', doc.watchdog.dpcTimeoutSteps, 10, 100_000_000);
      }
    }
  }
  const cost: CostModel = { ...DEFAULT_COST };
  if (doc.cost !== undefined) {
    if (!isRecord(doc.cost)) errors.push({ field: 'cost', message: 'must be an object' });
    else {
      for (const [key, v] of Object.entries(doc.cost)) {
        if (!Object.hasOwn(DEFAULT_COST, key)) errors.push({ field: `cost.${keyName(key)}`, message: 'is not a cost-model setting' });
        else cost[key as keyof CostModel] = intIn(errors, `cost.${key}`, v, 0, 1_000_000);
      }
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    rig: {
      id: id as string,
      title: title as string,
      ...(typeof doc.description === 'string' ? { description: doc.description } : {}),
      cores,
      threadsPerCore: tpc as 1 | 2,
      arch: arch as Arch,
      hal: hal as Hal,
      build: build as Build,
      upHalOnAllCpus: upAll as boolean,
      quantum,
      watchdog,
      memoryWords,
      cost,
    },
  };
}

/**
 * Parses and validates rig JSON text, throwing a RigError that names the source.
 * A leading UTF-8 byte-order mark (Windows editors write one) is not part of the JSON.
 */
export function parseRig(text: string, source: string): Rig {
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new RigError(source, [{ field: '(json)', message: clip((e as Error).message, 200) }]);
  }
  const r = validateRig(doc);
  if (!r.ok) throw new RigError(source, r.errors);
  return r.rig;
}

export function logicalCpuCount(rig: Rig): number {
  return rig.cores * rig.threadsPerCore;
}

/** CPUs that actually run: a UP HAL starts one CPU unless the rig asks for the unsafe mix. */
export function activeCpuCount(rig: Rig): number {
  return rig.hal === 'up' && !rig.upHalOnAllCpus ? 1 : logicalCpuCount(rig);
}

/**
 * A short fingerprint of every field that changes how a schedule plays out. The architecture is
 * part of it only when it is not x64, so every schedule recorded before rigs had one still replays.
 */
export function rigFingerprint(rig: Rig): number {
  const fields: unknown[] = [
    rig.cores, rig.threadsPerCore, rig.hal, rig.build, rig.upHalOnAllCpus, rig.quantum,
    rig.watchdog.maxSteps, rig.watchdog.dpcTimeoutSteps, rig.memoryWords,
  ];
  if (rig.arch !== 'x64') fields.push(rig.arch);
  const s = JSON.stringify(fields);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The settings rigFingerprint covers, by name, as a rig file spells them. */
const REPLAY_FIELDS: [string, (r: Rig) => unknown][] = [
  ['cores', (r) => r.cores],
  ['threadsPerCore', (r) => r.threadsPerCore],
  ['arch', (r) => r.arch],
  ['hal', (r) => r.hal],
  ['build', (r) => r.build],
  ['upHalOnAllCpus', (r) => r.upHalOnAllCpus],
  ['quantum', (r) => r.quantum],
  ['watchdog.maxSteps', (r) => r.watchdog.maxSteps],
  ['watchdog.dpcTimeoutSteps', (r) => r.watchdog.dpcTimeoutSteps],
  ['memoryWords', (r) => r.memoryWords],
];

/** The settings that change how a schedule plays out and differ between two rigs, as "cores 2 → 4". */
export function rigDifferences(from: Rig, to: Rig): string[] {
  const out: string[] = [];
  for (const [name, get] of REPLAY_FIELDS) {
    const a = get(from);
    const b = get(to);
    if (a !== b) out.push(`${name} ${String(a)} → ${String(b)}`);
  }
  return out;
}
