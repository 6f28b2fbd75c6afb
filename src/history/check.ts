/**
 * A small structural checker: each Check<T> validates an unknown value and
 * returns a fresh, normalized copy (known fields only, in a fixed order, no
 * undefined) or BAD after recording why, by path (`runs[3].rig.cores`).
 * Unknown fields are errors, so nothing rides along unvalidated.
 */
import type { FieldError } from '../machine/rig.ts';
import { keyName } from '../machine/text.ts';

export class Issues {
  readonly errors: FieldError[] = [];
  constructor(readonly max = 20) {}
  add(field: string, message: string): void {
    if (this.errors.length < this.max) this.errors.push({ field, message });
  }
  get ok(): boolean {
    return this.errors.length === 0;
  }
  get full(): boolean {
    return this.errors.length >= this.max;
  }
}

export const BAD: unique symbol = Symbol('bad');
export type Bad = typeof BAD;
export type Check<T> = (v: unknown, path: string, out: Issues) => T | Bad;

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(max: number, o: { min?: number; pattern?: RegExp; what?: string } = {}): Check<string> {
  const min = o.min ?? 0;
  return (v, path, out) => {
    if (typeof v !== 'string') return out.add(path, `must be a string (got ${show(v)})`), BAD;
    if (v.length < min || v.length > max) {
      return out.add(path, min > 0 ? `must be ${min} to ${max} characters (got ${v.length})` : `must be at most ${max} characters (got ${v.length})`), BAD;
    }
    if (o.pattern && !o.pattern.test(v)) return out.add(path, `must be ${o.what ?? `like ${o.pattern}`} (got ${show(v)})`), BAD;
    return v;
  };
}

export function int(min: number, max: number): Check<number> {
  return (v, path, out) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      return out.add(path, `must be an integer from ${min} to ${max} (got ${show(v)})`), BAD;
    }
    return v;
  };
}

export function num(min: number, max: number): Check<number> {
  return (v, path, out) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      return out.add(path, `must be a number from ${min} to ${max} (got ${show(v)})`), BAD;
    }
    return v;
  };
}

export const bool: Check<boolean> = (v, path, out) => (typeof v === 'boolean' ? v : (out.add(path, `must be true or false (got ${show(v)})`), BAD));

export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return (v, path, out) =>
    (values as readonly unknown[]).includes(v) ? (v as T) : (out.add(path, `must be one of ${values.map((x) => `"${x}"`).join(', ')} (got ${show(v)})`), BAD);
}

export function nullable<T>(c: Check<T>): Check<T | null> {
  return (v, path, out) => (v === null ? null : c(v, path, out));
}

export function arr<T>(item: Check<T>, max: number): Check<T[]> {
  return (v, path, out) => {
    if (!Array.isArray(v)) return out.add(path, `must be an array (got ${show(v)})`), BAD;
    if (v.length > max) return out.add(path, `must have at most ${max} entries (got ${v.length})`), BAD;
    const r: T[] = new Array<T>(v.length);
    let ok = true;
    for (let i = 0; i < v.length; i++) {
      const x = item(v[i], `${path}[${i}]`, out);
      if (x === BAD) {
        ok = false;
        if (out.full) break;
      } else r[i] = x;
    }
    return ok ? r : BAD;
  };
}

export interface Opt<T> {
  optional: Check<T>;
}
export const opt = <T>(c: Check<T>): Opt<T> => ({ optional: c });

type Spec = Record<string, Check<unknown> | Opt<unknown>>;
type Required<S extends Spec> = { [K in keyof S as S[K] extends Opt<unknown> ? never : K]: S[K] extends Check<infer T> ? T : never };
type Optional<S extends Spec> = { [K in keyof S as S[K] extends Opt<unknown> ? K : never]?: S[K] extends Opt<infer T> ? T : never };
export type Out<S extends Spec> = { [K in keyof (Required<S> & Optional<S>)]: (Required<S> & Optional<S>)[K] };

/** An object with exactly these fields (optional ones may be absent or undefined). `refine` checks across fields. */
export function obj<S extends Spec>(what: string, spec: S, refine?: (o: Out<S>, path: string, out: Issues) => boolean): Check<Out<S>> {
  return (v, path, out) => {
    if (!isRecord(v)) return out.add(path || '(root)', `must be ${what} (an object; got ${show(v)})`), BAD;
    let ok = true;
    for (const key of Object.keys(v)) {
      if (!Object.hasOwn(spec, key)) {
        out.add(join(path, keyName(key)), `is not a field of ${what}`);
        ok = false;
      }
    }
    const r: Record<string, unknown> = {};
    for (const [key, c] of Object.entries(spec)) {
      const x = v[key];
      const p = join(path, key);
      if (typeof c !== 'function') {
        if (x === undefined) continue;
        const y = c.optional(x, p, out);
        if (y === BAD) ok = false;
        else r[key] = y;
      } else if (x === undefined && !Object.hasOwn(v, key)) {
        out.add(p, 'is missing');
        ok = false;
      } else {
        const y = c(x, p, out);
        if (y === BAD) ok = false;
        else r[key] = y;
      }
      if (out.full) return BAD;
    }
    if (!ok) return BAD;
    const o = r as Out<S>;
    return refine && !refine(o, path, out) ? BAD : o;
  };
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Runs a check; the normalized value, or the field errors. */
export function check<T>(c: Check<T>, v: unknown, path = '', max = 20): { ok: true; value: T } | { ok: false; errors: FieldError[] } {
  const out = new Issues(max);
  const r = c(v, path, out);
  if (r === BAD) return { ok: false, errors: out.errors.length > 0 ? out.errors : [{ field: path || '(root)', message: 'is invalid' }] };
  return { ok: true, value: r };
}

/** JSON text with object keys sorted: equality of two plain-data values regardless of key order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    isRecord(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x,
  );
}

export function literal<const T extends string | number>(value: T): Check<T> {
  return (v, path, out) => (v === value ? value : (out.add(path, `must be ${JSON.stringify(value)} (got ${show(v)})`), BAD));
}
