/**
 * The regression matrix in the browser: one test per (scenario, rig) row of matrixRows, titled
 * `<scenario-id> on <rig-id>`, each run in the built app's workers and checked against the
 * scenario's `expect` exactly as `racebox regress` checks it in Node (src/cli/regress.ts runRow).
 * Rows come from matrixRows via e2e/regress/rows-env.ts. A team's own scenario (and a rig file of
 * its config) is imported into the page first, as a history file, and the link's confirmation is
 * answered on the user's behalf: its code runs in the scenario sandbox like any user scenario.
 */
import { expect } from '@playwright/test';
import { checkExpectation, describeExpected, describeFailure } from '../../src/scenario/expect.ts';
import { deliverToPage, historyFile, IMPORT_FILE, replayUrl, runInPage, test, type PageFacts } from './page-run.ts';
import { ROW_ATTACHMENT, type RowResult } from './row.ts';
import { regressRows } from './rows-env.ts';
import { SMOKE_ROWS } from './smoke.ts';

const doc = regressRows();

for (const reason of doc.broken) {
  // A scenario file that does not load is a failed row of its own; the others still run.
  test(`${reason.split(': ')[0]} does not load`, () => {
    throw new Error(reason);
  });
}

for (const row of doc.rows) {
  const title = `${row.scenario} on ${row.rig}`;
  test(title, { tag: SMOKE_ROWS.includes(title) ? ['@smoke'] : [] }, async ({ rowPage: page, baseURL }, testInfo) => {
    const t0 = Date.now();
    const user = doc.userScenarios[row.scenario];
    const userRig = doc.userRigs[row.rig];
    if (user?.refused) throw new Error(`${title}: not run in the browser: ${user.refused}. Run it with \`npx racebox regress\` in Node.`);
    if (user || userRig) await deliverToPage(page, { ...(user ? { scenario: user } : {}), ...(userRig ? { rig: userRig } : {}) }, testInfo.timeout);
    let found = 0;
    let schedulesRun = 0;
    let shown: PageFacts | undefined;
    let reason: string | null = null;
    let error: PageFacts | undefined;
    for (let seed = 1; seed <= row.seeds; seed++) {
      const r = await runInPage(page, { scenario: row.scenario, rig: row.rig, strategy: row.strategy, seed, schedules: row.schedules }, testInfo.timeout, user ? { title: user.title } : undefined);
      const why = checkExpectation(row.expected, r);
      schedulesRun += r.schedulesRun;
      if (why === null) found++;
      if (r.outcome === 'error') error ??= r;
      if (!shown || (reason === null && why !== null)) {
        shown = r;
        reason = why;
      }
    }
    const needed = row.seeds === 1 ? 1 : Math.ceil(row.seeds * 0.9);
    const ok = found >= needed && !error;
    const r = error ?? shown!;
    const schedule = !ok ? r.schedule : undefined;
    const link = schedule ? replayUrl(baseURL!, row.rig, row.scenario, schedule) : undefined;
    const result: RowResult = {
      scenario: row.scenario,
      rig: row.rig,
      expected: describeExpected(row.expected),
      observed: r.outcome === 'pass' ? 'pass' : describeFailure(r),
      ok,
      strategy: row.strategy,
      seeds: row.seeds,
      schedulesRun,
      ms: Date.now() - t0,
      ...(schedule ? { schedule } : {}),
      ...(link ? { replayLink: link } : {}),
    };
    // The link replays only where the team's scenario and rig are in the history: the report carries the file to import.
    const imported = schedule && (user || userRig);
    if (imported) await testInfo.attach(IMPORT_FILE, { body: historyFile({ ...(user ? { scenario: user } : {}), ...(userRig ? { rig: userRig } : {}) }), contentType: 'application/json' });
    await testInfo.attach(ROW_ATTACHMENT, { body: JSON.stringify(result), contentType: 'application/json' });
    const why = ok ? null : error ? 'the run ended as outcome error' : (reason ?? `found in only ${found} of ${row.seeds} seeds`);
    const message = [
      `${title}: expected ${result.expected}, observed ${result.observed} (${schedulesRun} schedules): ${why}`,
      ...(schedule
        ? [
            `schedule: ${schedule}`,
            `replay:   ${link}${imported ? ` (import the attached ${IMPORT_FILE} on the History tab first)` : ''}`,
            `          npx racebox replay ${row.scenarioRef} --rig ${row.rigRef} --schedule ${schedule}`,
          ]
        : []),
    ].join('\n');
    expect(ok, message).toBe(true);
  });
}
