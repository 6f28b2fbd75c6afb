/**
 * The browser matrix can fail: the project run on a config whose scenario no longer does what
 * its `expect` says (e2e/regress/fixtures/stale: cancel/no-exchange-check with a find budget
 * too small to reach its bug, next to fastmutex/in-dpc, which still holds) fails exactly that
 * scenario's expected-failure rows, and the reports say which rows, what was expected and what
 * was observed. It runs the project in a child Playwright against this run's server.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = fileURLToPath(new URL('./fixtures/stale/racebox.config.json', import.meta.url));

interface Summary {
  passed: number;
  failed: number;
  rows: { title: string; status: string; expected?: string; observed?: string; schedulesRun?: number }[];
}

test('a scenario whose expectation no longer holds fails exactly its rows', { tag: ['@smoke', '@self'] }, async ({ baseURL }) => {
  // A whole Playwright run of ten rows: on a busy 2-core machine that takes minutes.
  test.setTimeout(600_000);
  // Its own folder, outside this run's output folder (which another run may empty).
  const out = mkdtempSync(join(tmpdir(), 'racebox-regress-stale-'));
  // The child lists its own rows and reuses this run's server; nothing of this run's Playwright state leaks into it.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PW_|TEST_|PLAYWRIGHT_|RACEBOX_REGRESS_)/.test(k)));
  Object.assign(env, { RACEBOX_REGRESS_CONFIG: CONFIG, RACEBOX_REGRESS_PORT: new URL(baseURL!).port, RACEBOX_REGRESS_OUT: out, CI: '' });
  let code = 0;
  let output = '';
  try {
    const r = await promisify(execFile)(process.execPath, [`${ROOT}node_modules/@playwright/test/cli.js`, 'test', '-c', 'e2e/regress/playwright.regress.config.ts', '--grep-invert', '@self'], { cwd: ROOT, env, maxBuffer: 1 << 24 });
    output = r.stdout;
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    code = err.code ?? -1;
    output = `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
  expect(code, output).toBe(1);

  const summary = JSON.parse(readFileSync(`${out}/test-results/regress-summary.json`, 'utf8')) as Summary;
  const failed = summary.rows.filter((r) => r.status !== 'passed').map((r) => r.title);
  expect(failed.sort(), JSON.stringify(summary.rows, null, 1)).toEqual(['cancel/no-exchange-check on dual-opteron-240', 'cancel/no-exchange-check on p4-ht', 'cancel/no-exchange-check on quad-free', 'cancel/no-exchange-check on workstation-16']);
  expect(summary.passed).toBe(6); // its uniprocessor row (expects pass) and fastmutex/in-dpc's five
  for (const r of summary.rows.filter((x) => x.status !== 'passed')) {
    expect(r).toMatchObject({ expected: 'bugcheck MULTIPLE_IRP_COMPLETE_REQUESTS', observed: 'pass', schedulesRun: 10 });
  }

  const junit = readFileSync(`${out}/test-results/regress-junit.xml`, 'utf8');
  expect(junit.match(/<testcase /g)).toHaveLength(10);
  expect(junit.match(/<failure /g)).toHaveLength(4);
  expect(junit).toContain('expected bugcheck MULTIPLE_IRP_COMPLETE_REQUESTS, observed pass (10 schedules)');
});
