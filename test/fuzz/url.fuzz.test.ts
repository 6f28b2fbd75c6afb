/**
 * Hostile-input suite: link parameters (src/ui/lib/url.ts). parseLink never
 * throws; each parameter it knows is either taken exactly as the rules say
 * (numbers within the CLI's ranges, engine/limits.ts) or reported in a problem
 * that names it; a link with any problem runs nothing (linkProblems).
 */
import { describe, expect, it } from 'vitest';
import { RUN_LIMITS } from '../../src/engine/limits.ts';
import { PRESET_RIGS } from '../../src/machine/presets.ts';
import { exploreLink, linkProblems, parseLink, replayLink, STRATEGIES } from '../../src/ui/lib/url.ts';
import { HOSTILE_VALUES, mutateText, pick, report, Rng, thrown } from './mutate.ts';

const BASE = 'http://localhost:4173/';
const NUMERIC = { seed: RUN_LIMITS.seed, depth: RUN_LIMITS.depth, schedules: RUN_LIMITS.schedules } as const;
const PARAMS = ['rig', 'scenario', 'seed', 'depth', 'schedules', 'strategy', 'schedule', 'run'];
const PROBLEM = /^The link's (rig|scenario|seed|depth|schedules|strategy|schedule) /;

/** The rules, restated, for one parameter: its value, or 'problem'. */
function expected(name: string, v: string): unknown {
  if (name in NUMERIC) {
    const r = NUMERIC[name as keyof typeof NUMERIC];
    const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
    return Number.isSafeInteger(n) && n >= r.min && n <= r.max ? n : 'problem';
  }
  if (name === 'strategy') return (STRATEGIES as readonly string[]).includes(v) ? v : 'problem';
  if (name === 'rig' || name === 'scenario') return v.length >= 1 && v.length <= 256 ? v : 'problem';
  if (name === 'schedule') return v === '' ? 'problem' : v;
  return undefined;
}

function checkLink(search: string, where: string): { problems: number } {
  let p: ReturnType<typeof parseLink> | undefined;
  const e = thrown(() => {
    p = parseLink(search);
  });
  expect(e, `threw ${String(e)}, ${where}`).toBeUndefined();
  const q = new URLSearchParams(search);
  let bad = 0;
  for (const name of PARAMS) {
    const v = q.get(name);
    const got = (p as unknown as Record<string, unknown>)[name];
    if (name === 'run') {
      expect(got, where).toBe(v === '1' || v === 'true');
      continue;
    }
    if (v === null) {
      expect(got, `${name} absent, ${where}`).toBeUndefined();
      continue;
    }
    const want = expected(name, v);
    if (want === 'problem') {
      bad++;
      expect(got, `${name} should be refused, ${where}`).toBeUndefined();
      expect(p!.problems.some((m) => m.startsWith(`The link's ${name} `)), `no problem names ${name}, ${where}`).toBe(true);
    } else expect(got, `${name}, ${where}`).toBe(want);
  }
  expect(p!.problems.length, where).toBe(bad);
  for (const m of p!.problems) {
    expect(m, where).toMatch(PROBLEM);
    expect(m.length, where).toBeLessThanOrEqual(300);
  }
  return { problems: bad };
}

describe('fuzz: link parameters', () => {
  it('takes every valid link, names every bad parameter, never throws', () => {
    const rng = new Rng(0x11a7);
    const scenarios = ['spinlock/abba', 'cancel/no-exchange-check', 'mine/ünïcødé race', 'a&b=c', 'x'.repeat(256)];
    const valid: string[] = [];
    for (const rig of PRESET_RIGS) {
      for (const scenario of scenarios) {
        valid.push(new URL(exploreLink(BASE, { rig: rig.id, scenario, seed: rng.u32(), strategy: pick(rng, STRATEGIES), run: rng.int(2) === 0 })).search);
        valid.push(new URL(replayLink(BASE, rig.id, scenario, 'rb1.AAECAwQ-_')).search);
      }
    }
    valid.push('?seed=0&depth=1&schedules=1', '?seed=4294967295&depth=20&schedules=1000000000', '', '?', '?utm_source=mail&run=0', '?run=true&rig=uniprocessor');
    for (const s of valid) {
      expect(parseLink(s).problems, s).toEqual([]);
      checkLink(s, s);
      expect(linkProblems(parseLink(s), { rig: true, scenario: true })).toEqual([]);
    }

    let withProblems = 0;
    let clean = 0;
    const MUTATED = 3000;
    const URLCHARS = 'abz019-_.=&?%+#/ rundeptchsg\u00e9\uFEFF';
    for (let i = 0; i < MUTATED; i++) {
      let s = pick(rng, valid);
      if (i % 2 === 0) s = mutateText(rng, s, URLCHARS);
      else {
        // A parameter set to a hostile value (or repeated, or named twice).
        const q = new URLSearchParams(s);
        const name = pick(rng, PARAMS);
        const v = pick(rng, HOSTILE_VALUES);
        const text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
        if (rng.int(4) === 0) q.append(name, text);
        else q.set(name, pick(rng, [text, `${text}${text}`, String(-1), '1e12', '999999', '0x10', ' 5', '5.0', '+3', '007']));
        s = `?${q.toString()}`;
      }
      const where = `case ${i}: ${s.slice(0, 200)}`;
      const { problems } = checkLink(s, where);
      const p = parseLink(s);
      const all = linkProblems(p, { rig: rng.int(3) > 0, scenario: rng.int(3) > 0 });
      for (const m of all) expect(m.length, where).toBeLessThanOrEqual(300);
      if (all.length > 0 && (p.run || p.schedule !== undefined)) expect(all.at(-1), where).toMatch(/^Nothing was run/);
      if (problems > 0) withProblems++;
      else clean++;
    }
    report('link parameters', { mutated: MUTATED, 'with a named problem': withProblems, 'valid after mutation (taken as the rules say)': clean, valid: valid.length, crashes: 0 });
  }, 60_000);
});
