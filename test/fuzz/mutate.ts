/**
 * Seeded mutation for the hostile-input suite (issue 14). Every fuzz test runs
 * a fixed number of cases from a fixed seed (src/engine/prng.ts), so a failure
 * names its case number and reproduces exactly.
 */
import { Rng } from '../../src/engine/prng.ts';

export { Rng };

/** Values a hostile file or link puts where a field was. */
export const HOSTILE_VALUES: unknown[] = [
  null, true, false, 0, -0, -1, 1, 0.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 1e-300,
  '', ' ', '0', '1', '-1', 'NaN', 'Infinity', 'true', 'null', '__proto__', 'constructor', '\u0000', '\uFEFF', '\uD800', '💥',
  'x'.repeat(3000), 'a/b', '../../etc/passwd', '<script>alert(1)</script>', [], [1], [null], {}, { a: 1 }, { __proto__: { polluted: 1 } },
];

const CHARS = 'abcxyz019-_./:=&?%+ \t\n"\'{}[],\\\u0000\u00e9\u2028\uFEFF\uD83D';

export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

/** One to three text-level edits: flip, insert, delete, duplicate, truncate, swap, a long run. */
export function mutateText(rng: Rng, s: string, alphabet = CHARS): string {
  const edits = 1 + rng.int(3);
  for (let e = 0; e < edits; e++) {
    const i = s.length === 0 ? 0 : rng.int(s.length);
    switch (rng.int(9)) {
      case 0:
        s = s.slice(0, i) + pick(rng, alphabet.split('')) + s.slice(i + 1);
        break;
      case 1:
        s = s.slice(0, i) + pick(rng, alphabet.split('')) + s.slice(i);
        break;
      case 2:
        s = s.slice(0, i) + s.slice(i + 1 + rng.int(8));
        break;
      case 3: {
        const n = rng.int(20);
        s = s.slice(0, i) + s.slice(i, i + n) + s.slice(i);
        break;
      }
      case 4:
        s = s.slice(0, i);
        break;
      case 5: {
        const j = rng.int(Math.max(1, s.length));
        const a = s.split('');
        [a[i], a[j]] = [a[j] ?? '', a[i] ?? ''];
        s = a.join('');
        break;
      }
      case 6:
        s = s.slice(0, i) + pick(rng, alphabet.split('')).repeat(1 + rng.int(5000)) + s.slice(i);
        break;
      case 7: {
        // A character's code shifted by one: the smallest change a hand edit makes.
        const c = s.charCodeAt(i);
        if (!Number.isNaN(c)) s = s.slice(0, i) + String.fromCharCode((c + (rng.int(2) ? 1 : -1)) & 0xffff) + s.slice(i + 1);
        break;
      }
      default:
        s = rng.int(2) ? ` ${s}\n` : `\uFEFF${s}`;
    }
  }
  return s;
}

type Json = unknown;

/** Every path to a value inside `v` (objects and arrays), the root included. */
function paths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function clone(v: Json): Json {
  return JSON.parse(JSON.stringify(v)) as Json;
}

/**
 * One to three structural edits of a JSON value: a field deleted, replaced by
 * a hostile value, an unknown (or very long) key added, an array entry
 * duplicated or dropped, a number nudged off its range.
 */
export function mutateJson(rng: Rng, v: Json): Json {
  let root = clone(v);
  const edits = 1 + rng.int(3);
  for (let e = 0; e < edits; e++) {
    const all = paths(root);
    const path = pick(rng, all);
    const set = (x: Json): void => {
      if (path.length === 0) {
        root = x;
        return;
      }
      let p = root as Record<string | number, Json>;
      for (const k of path.slice(0, -1)) p = p[k] as Record<string | number, Json>;
      p[path.at(-1)!] = x;
    };
    let target = root as Json;
    for (const k of path) target = (target as Record<string | number, Json>)[k];
    switch (rng.int(7)) {
      case 0: {
        if (path.length === 0) break;
        let p = root as Record<string | number, Json>;
        for (const k of path.slice(0, -1)) p = p[k] as Record<string | number, Json>;
        if (Array.isArray(p)) p.splice(path.at(-1) as number, 1);
        else delete p[path.at(-1)!];
        break;
      }
      case 1:
      case 2:
        set(clone(pick(rng, HOSTILE_VALUES)));
        break;
      case 3:
        if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
          const key = pick(rng, ['extra', '__proto__', 'constructor', 'x'.repeat(10_000), '', 'id ', 'ID']);
          // defineProperty: a literal '__proto__' key, as JSON.parse makes it, not a prototype change.
          Object.defineProperty(target, key, { value: pick(rng, [1, 'x', null, {}]), enumerable: true, writable: true, configurable: true });
        }
        break;
      case 4:
        if (Array.isArray(target) && target.length > 0) target.push(clone(pick(rng, target)));
        else set(clone(pick(rng, HOSTILE_VALUES)));
        break;
      case 5:
        if (typeof target === 'number') set(pick(rng, [target + 1, target - 1, target * 2, -target, target + 0.5, target * 1e6]));
        else if (typeof target === 'string') set(pick(rng, ['', target + target, target.toUpperCase(), ` ${target}`, target.slice(1)]));
        else set(clone(pick(rng, HOSTILE_VALUES)));
        break;
      default:
        if (Array.isArray(target)) target.length = rng.int(target.length + 1);
        else set(clone(pick(rng, HOSTILE_VALUES)));
    }
  }
  return root;
}

/** Mutated JSON text: mostly structural edits, sometimes text edits of the JSON itself. */
export function mutateJsonText(rng: Rng, v: Json): string {
  if (rng.int(4) === 0) return mutateText(rng, JSON.stringify(v, null, rng.int(2) ? 1 : undefined));
  return JSON.stringify(mutateJson(rng, v)) ?? 'undefined';
}

/** Runs `f` and returns what it threw (undefined when it returned). */
export function thrown(f: () => unknown): unknown {
  try {
    f();
    return undefined;
  } catch (e) {
    return e ?? new Error('threw a nullish value');
  }
}

/** An escaped built-in error (TypeError, RangeError, ...): a crash, never a refusal. */
export function isCrash(e: unknown): boolean {
  return e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError || e instanceof SyntaxError || !(e instanceof Error);
}

/** The one-line count every fuzz test prints. */
export function report(what: string, counts: Record<string, number>): void {
  console.log(`fuzz ${what}: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ')}`);
}
