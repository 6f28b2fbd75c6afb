/**
 * The browser regression project (e2e/regress) split over CI machines: `--shard=1/2` and
 * `--shard=2/2` together list every test of the full run exactly once, each shard listing its
 * rows on its own (as separate machines do). Listing only: no browser starts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../src/workers/node-load.ts';
import { SMOKE_ROWS } from '../../e2e/regress/smoke.ts';

interface Suite {
  specs?: { title: string; tags: string[] }[];
  suites?: Suite[];
}

async function list(...args: string[]): Promise<{ title: string; tags: string[] }[]> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RACEBOX_REGRESS_')));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [`${ROOT}/node_modules/@playwright/test/cli.js`, 'test', '-c', 'e2e/regress/playwright.regress.config.ts', '--list', '--reporter=json', ...args],
    { cwd: ROOT, env, maxBuffer: 1 << 26 },
  );
  const out: { title: string; tags: string[] }[] = [];
  const walk = (s: Suite): void => {
    for (const spec of s.specs ?? []) out.push({ title: spec.title, tags: spec.tags });
    s.suites?.forEach(walk);
  };
  (JSON.parse(stdout) as { suites: Suite[] }).suites.forEach(walk);
  return out;
}

describe('browser regression matrix', () => {
  it('two shards list every test of the full run exactly once; the smoke rows are rows of it', async () => {
    const [all, one, two] = await Promise.all([list(), list('--shard=1/2'), list('--shard=2/2')]);
    const titles = all.map((t) => t.title);
    // The library matrix has 160 rows as of writing; what matters is that it is not empty and splits.
    expect(titles.length).toBeGreaterThan(100);
    expect(new Set(titles).size).toBe(titles.length);
    expect(one.length).toBeGreaterThan(0);
    expect(two.length).toBeGreaterThan(0);
    expect([...one, ...two].map((t) => t.title).sort()).toEqual([...titles].sort());
    expect(titles).toContain('spinlock/abba on dual-opteron-240');
    // npm test runs the @smoke rows (the JSON report drops the @): each must still be a row, and no other row is tagged.
    const smokeRows = all.filter((t) => t.tags.includes('smoke') && !t.tags.includes('self')).map((t) => t.title);
    expect(smokeRows.sort()).toEqual([...SMOKE_ROWS].sort());
  }, 180_000);
});
