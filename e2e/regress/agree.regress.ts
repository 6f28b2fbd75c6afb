/**
 * Node and the browser agree: a row's exploration (same scenario, rig, strategy, seed and
 * budget) ends the same way in `racebox run` and in the app's workers — the same outcome, the
 * same number of schedules and the same schedule string. Rows with a failure found after
 * several schedules and a full pass budget, so that agreement is more than the first schedule.
 * Also for a team's scenarios from a config (e2e/regress/fixtures/team): `racebox run` loads the
 * file and its helper in Node; the page gets it through a history import and the link's
 * confirmation, and runs it in the scenario sandbox — one of them bundled with its helper, both
 * on the team's rig file.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from '@playwright/test';
import type { RunSummary } from '../../src/engine/outcome.ts';
import { deliverToPage, runInPage, test } from './page-run.ts';
import { listRows, regressRows } from './rows-env.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEAM_CONFIG = fileURLToPath(new URL('./fixtures/team/racebox.config.json', import.meta.url));
/** Rows of the team's config: a failure found after several schedules, and a helper's full pass budget. */
const TEAM_ROWS = ['team/lost-update on team-box', 'team/locked-counter on team-box'];
const ROWS = [
  'cancel/no-exchange-check on workstation-16',
  'dpc/concurrent-self on p4-ht',
  'eresource/no-critical-region on quad-free',
  'rundown/naive-flag-refcount on dual-opteron-240',
  'fastmutex/correct on uniprocessor',
];

async function runInNode(args: string[]): Promise<RunSummary> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [`${ROOT}bin/racebox.mjs`, 'run', ...args, '--json'], { cwd: ROOT });
    return JSON.parse(stdout) as RunSummary;
  } catch (e) {
    // Exit 1 is "a failure found": the JSON is on stdout all the same.
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (err.code === 1 && err.stdout) return JSON.parse(err.stdout) as RunSummary;
    throw new Error(`racebox run ${args.join(' ')} failed: ${err.stderr ?? String(e)}`);
  }
}

for (const title of ROWS) {
  test(`Node and the browser agree on ${title}`, { tag: ['@smoke', '@self'] }, async ({ rowPage: page }, testInfo) => {
    const row = regressRows().rows.find((r) => `${r.scenario} on ${r.rig}` === title);
    if (!row) throw new Error(`${title} is no longer a row of the library matrix: pick another`);
    const node = await runInNode([row.scenario, '--rig', row.rig, '--strategy', row.strategy, '--seed', '1', '--schedules', String(row.schedules)]);
    const browser = await runInPage(page, { scenario: row.scenario, rig: row.rig, strategy: row.strategy, seed: 1, schedules: row.schedules }, testInfo.timeout);
    expect({ outcome: browser.outcome, schedulesRun: browser.schedulesRun, schedule: browser.schedule }).toEqual({
      outcome: node.outcome,
      schedulesRun: node.schedulesRun,
      schedule: node.failure?.schedule,
    });
    // Agreement on nothing would prove nothing: most of these rows find their failure after several schedules.
    if (node.outcome !== 'pass') expect(node.failure?.schedule).toMatch(/^rb2\./);
  });
}

test("Node and the browser agree on the team's rows", { tag: ['@smoke', '@self'] }, async ({ rowPage: page }, testInfo) => {
  const doc = listRows(TEAM_CONFIG, ROOT);
  const rows = TEAM_ROWS.map((title) => {
    const row = doc.rows.find((r) => `${r.scenario} on ${r.rig}` === title);
    if (!row) throw new Error(`${title} is no longer a row of ${TEAM_CONFIG}: pick another`);
    const user = doc.userScenarios[row.scenario]!;
    expect(user.refused).toBeUndefined();
    return { title, row, user, rig: doc.userRigs[row.rig]! };
  });
  // `racebox run` takes the files themselves (paths relative to ROOT): the scenario, which may import a helper, and the rig file.
  const nodeRuns = Promise.all(rows.map(({ row }) => runInNode([row.scenarioRef, '--rig', row.rigRef, '--strategy', row.strategy, '--seed', '1', '--schedules', String(row.schedules)])));
  for (const { user, rig } of rows) await deliverToPage(page, { scenario: user, rig }, testInfo.timeout);
  const node = await nodeRuns;
  for (const [i, { title, row, user }] of rows.entries()) {
    const n = node[i]!;
    const browser = await runInPage(page, { scenario: row.scenario, rig: row.rig, strategy: row.strategy, seed: 1, schedules: row.schedules }, testInfo.timeout, { title: user.title });
    expect({ title, outcome: browser.outcome, schedulesRun: browser.schedulesRun, schedule: browser.schedule }).toEqual({
      title,
      outcome: n.outcome,
      schedulesRun: n.schedulesRun,
      schedule: n.failure?.schedule,
    });
    if (row.expected === 'pass') expect(n).toMatchObject({ outcome: 'pass', schedulesRun: row.schedules });
    else expect(n.failure?.schedule).toMatch(/^rb2\./);
  }
});
