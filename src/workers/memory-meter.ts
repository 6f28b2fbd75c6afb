/**
 * The memory watchdog of a sandbox worker (browser; docs/limits.md). Chromium gives a worker no reading of its
 * own memory (no `performance.memory` there), and `performance.measureUserAgentSpecificMemory`, which the
 * cross-origin-isolated frame has, completes only at a garbage collection: seconds to tens of seconds after the
 * limit (measured: none within 40 s while a worker allocated 64 MB at a time). So the worker counts what it
 * allocates outside its JavaScript heap: every ArrayBuffer and SharedArrayBuffer made through their
 * constructors or a typed array's, each counted once and uncounted when collected (FinalizationRegistry).
 * An allocation that would take the live total over the limit is refused (a RangeError naming the limit, so
 * the allocating routine ends there) and noted, and the job's result becomes outcome `error` naming the limit
 * (async-faults.ts), even if the scenario catches the RangeError. The check costs one addition per buffer
 * made, nothing per step.
 *
 * This bounds what a scenario allocates by mistake (and keeps the sandbox's process alive); code determined to
 * allocate around the count (a typed array's `slice`, `structuredClone`) is still confined by the sandbox.
 */
import { noteLimitFault } from './async-faults.ts';

/** The default limit of one sandbox worker's live ArrayBuffers, in MB. */
export const SANDBOX_BUFFER_LIMIT_MB = 1024;

const TYPED_ARRAYS = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Float16Array',
] as const;

export interface BufferMeter {
  /** Bytes of the buffers made here that are still alive (as far as the collector has said). */
  readonly live: number;
  readonly limitBytes: number;
}

/** Installs the meter on `scope` (a worker's global object) once; later calls return the first meter. */
export function installBufferMeter(scope: typeof globalThis, limitMb = SANDBOX_BUFFER_LIMIT_MB): BufferMeter {
  const key = Symbol.for('racebox.bufferMeter');
  const g = scope as unknown as Record<symbol, BufferMeter | undefined> & Record<string, unknown>;
  const existing = g[key];
  if (existing) return existing;
  const limitBytes = limitMb * 1024 * 1024;
  const counted = new WeakSet<object>();
  const meter = { live: 0, limitBytes };
  const collected = new FinalizationRegistry<number>((bytes) => {
    meter.live -= bytes;
  });
  const message = (wanted: number): string =>
    `the scenario used more than the sandbox memory limit of ${limitMb.toLocaleString('en-US')} MB of ArrayBuffers per worker ` +
    `(it asked for ${Math.ceil(wanted / 2 ** 20).toLocaleString('en-US')} MB more with ${Math.round(meter.live / 2 ** 20).toLocaleString('en-US')} MB live)`;
  /** Refuses a buffer that would cross the limit, before it is allocated. */
  const admit = (bytes: number): void => {
    if (meter.live + bytes <= limitBytes) return;
    const m = message(bytes);
    noteLimitFault(m);
    throw new RangeError(m);
  };
  const count = (buffer: ArrayBufferLike): void => {
    if (counted.has(buffer)) return;
    counted.add(buffer);
    meter.live += buffer.byteLength;
    collected.register(buffer, buffer.byteLength);
  };
  /** Bytes a constructor call will allocate before it runs: (length) or (array-like) for a typed array. */
  const wanted = (bytesPerElement: number, args: unknown[]): number => {
    const a = args[0];
    if (typeof a === 'number') return a * bytesPerElement;
    if (a instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && a instanceof SharedArrayBuffer)) return 0;
    const n = (a as { length?: unknown } | null | undefined)?.length;
    return typeof n === 'number' ? n * bytesPerElement : 0;
  };
  const wrap = <C extends abstract new (...args: never[]) => object>(name: string, bytesPer: (args: unknown[]) => number, bufferOf: (o: object) => ArrayBufferLike): void => {
    const original = g[name] as C | undefined;
    if (typeof original !== 'function') return;
    g[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        const bytes = bytesPer(args);
        if (Number.isFinite(bytes) && bytes > 0) admit(bytes);
        const o = Reflect.construct(target, args, newTarget) as object;
        count(bufferOf(o));
        return o;
      },
    });
  };
  const maxBytes = (args: unknown[]): number => {
    const o = args[1] as { maxByteLength?: unknown } | undefined;
    return typeof o?.maxByteLength === 'number' ? o.maxByteLength : 0;
  };
  wrap('ArrayBuffer', (args) => Math.max(Number(args[0]) || 0, maxBytes(args)), (o) => o as ArrayBuffer);
  wrap('SharedArrayBuffer', (args) => Math.max(Number(args[0]) || 0, maxBytes(args)), (o) => o as SharedArrayBuffer);
  for (const name of TYPED_ARRAYS) {
    const ctor = g[name] as { BYTES_PER_ELEMENT?: number } | undefined;
    if (!ctor) continue;
    const per = ctor.BYTES_PER_ELEMENT ?? 1;
    wrap(name, (args) => wanted(per, args), (o) => (o as Uint8Array).buffer);
  }
  g[key] = meter;
  return meter;
}
