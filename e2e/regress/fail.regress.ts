/**
 * The matrix can fail, in Node and in the browser: a team's project (e2e/regress/fixtures/team:
 * three scenario files outside the library, one importing a helper that imports a value from
 * 'racebox', and a rig file) in which one scenario, team/stale-stats, no longer does what its
 * `expect` says. `racebox regress` and the Playwright project run on that config fail exactly its
 * multiprocessor row, and both reports carry the same schedule; the browser's failure message
 * and JUnit also carry the link that replays it. The browser half runs the project in a child
 * Playwright against this run's server, so the team's scenarios go through the page's import,
 * the confirmation and the sandbox exactly as in a team's own run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = fileURLToPath(new URL('./fixtures/team/racebox.config.json', import.meta.url));
const STALE = 'team/stale-stats on dual-opteron-240';

interface Summary {
  passed: number;
  failed: number;
  rows: { title: string; status: string; expected?: string; observed?: string; schedulesRun?: number; schedule?: string; replayLink?: string }[];
}

interface NodeReport {
  passed: number;
  failed: number;
  results: { scenario: string; rig: string; ok: boolean; observed: string; schedule?: string }[];
}

/** Runs a command to its end; a non-zero exit is a result here, not an error. */
async function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; output: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, args, { cwd: ROOT, env, maxBuffer: 1 << 26 });
    return { code: 0, stdout: r.stdout, output: `${r.stdout}${r.stderr}` };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

test('a scenario whose expectation no longer holds fails exactly its rows, in Node and in the browser, with the schedule in the reports', { tag: ['@smoke', '@self'] }, async ({ baseURL }) => {
  // A whole Playwright run of five rows, each importing a scenario first: minutes on a busy 2-core machine.
  test.setTimeout(600_000);

  // Node: the same config through `racebox regress`.
  const node = await run([`${ROOT}bin/racebox.mjs`, 'regress', '--config', CONFIG, '--json'], process.env);
  expect(node.code, node.output).toBe(1);
  const nodeReport = JSON.parse(node.stdout) as NodeReport;
  expect(nodeReport.results.filter((r) => !r.ok).map((r) => `${r.scenario} on ${r.rig}`)).toEqual([STALE]);
  expect(nodeReport.passed).toBe(4);
  const nodeSchedule = nodeReport.results.find((r) => !r.ok)!.schedule;
  expect(nodeSchedule).toMatch(/^rb2\./);

  // The browser: the Playwright project on the same config, its reports in a folder of its own
  // (outside this run's output folder, which another run may empty).
  const out = mkdtempSync(join(tmpdir(), 'racebox-regress-team-'));
  // The child lists its own rows and reuses this run's server; nothing of this run's Playwright state leaks into it.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PW_|TEST_|PLAYWRIGHT_|RACEBOX_REGRESS_)/.test(k)));
  Object.assign(env, { RACEBOX_REGRESS_CONFIG: CONFIG, RACEBOX_REGRESS_PORT: new URL(baseURL!).port, RACEBOX_REGRESS_OUT: out, CI: '' });
  const browser = await run([`${ROOT}node_modules/@playwright/test/cli.js`, 'test', '-c', 'e2e/regress/playwright.regress.config.ts', '--grep-invert', '@self'], env);
  expect(browser.code, browser.output).toBe(1);

  const summary = JSON.parse(readFileSync(`${out}/test-results/regress-summary.json`, 'utf8')) as Summary;
  const failed = summary.rows.filter((r) => r.status !== 'passed');
  // Its uniprocessor row (still a pass) and the other scenarios' rows — one bundled with its helper, two on the team's rig file — pass.
  expect(failed.map((r) => r.title), JSON.stringify(summary.rows, null, 1)).toEqual([STALE]);
  expect(summary.rows.map((r) => r.title).sort()).toEqual(nodeReport.results.map((r) => `${r.scenario} on ${r.rig}`).sort());
  expect(summary.passed).toBe(4);
  const row = failed[0]!;
  expect(row).toMatchObject({ expected: 'pass', observed: "invariant 'every hit counted'", schedule: nodeSchedule });
  const link = new URL(row.replayLink!);
  expect(Object.fromEntries(link.searchParams)).toEqual({ rig: 'dual-opteron-240', scenario: 'team/stale-stats', schedule: nodeSchedule });

  const junit = readFileSync(`${out}/test-results/regress-junit.xml`, 'utf8');
  expect(junit.match(/<testcase /g)).toHaveLength(5);
  expect(junit.match(/<failure /g)).toHaveLength(1);
  expect(junit).toContain("team/stale-stats on dual-opteron-240: expected pass, observed invariant 'every hit counted'");
  expect(junit).toContain(`schedule: ${nodeSchedule}`);
  expect(junit).toContain(`replay:   ${row.replayLink!} (import the attached racebox-regress.json on the History tab first)`);
  expect(junit).toContain(`npx racebox replay e2e/regress/fixtures/team/race/stale-stats.ts --rig dual-opteron-240 --schedule ${nodeSchedule}`);
});
