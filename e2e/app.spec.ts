import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { BUGCHECK, SCENARIO, SCENARIO_TITLE, mainThreadTasks, openApp, pickRig, pickScenario, shownSchedule } from './helpers.ts';

test.describe.configure({ timeout: 90_000 });

test('configure the box, run with PCT, see the blue screen, step the timeline, find the run after a reload and replay it', async ({ page }) => {
  await openApp(page);
  await pickRig(page, 'dual-opteron-240');
  await expect(page.getByRole('img', { name: /2 logical CPUs, multiprocessor HAL/ })).toBeVisible();
  await pickScenario(page, SCENARIO_TITLE);

  await page.getByLabel('Strategy').selectOption('pct');
  await page.getByLabel('Seed').fill('1');
  await page.getByLabel('Budget (schedules)').fill('5000');
  await page.getByRole('button', { name: 'Start' }).click();

  const bsod = page.getByTestId('bugcheck');
  await expect(bsod).toBeVisible({ timeout: 30_000 });
  await expect(bsod).toContainText(BUGCHECK);
  await expect(bsod).toContainText('0x44');
  await expect(bsod).toContainText('An IRP was completed twice');
  await expect(bsod.getByRole('table')).toContainText('CPU');
  const schedule = await shownSchedule(page);
  const failedStep = (await bsod.textContent())!.match(/at step (\d+)/)![1];

  // The timeline: replayed with tracing on, then stepped backward and forward.
  const pos = page.getByTestId('timeline-position');
  await expect(pos).toHaveText(/Step (\d+) of \1/, { timeout: 20_000 });
  const total = Number((await pos.textContent())!.match(/of (\d+)/)![1]);
  // One numbering: the blue screen's "halted at step N" is the timeline's last step.
  expect(Number(failedStep)).toBe(total);
  await page.getByRole('button', { name: 'Previous step' }).click();
  await page.getByRole('button', { name: 'Previous step' }).click();
  await expect(pos).toHaveText(`Step ${total - 2} of ${total}`);
  await expect(page.getByTestId('step-inspector')).toContainText(`At step ${total - 2}`);
  await page.getByRole('button', { name: 'Next step' }).click();
  await expect(pos).toHaveText(`Step ${total - 1} of ${total}`);
  await page.getByRole('button', { name: 'Go to failure' }).click();
  await expect(pos).toHaveText(`Step ${total} of ${total}`);
  await expect(page.getByTestId('step-inspector')).toContainText('the failing step');
  // Keyboard: the canvas takes arrow keys.
  await page.getByRole('img', { name: /Timeline of \d+ steps/ }).focus();
  await page.keyboard.press('Home');
  await expect(pos).toHaveText(`Step 1 of ${total}`);
  await page.keyboard.press('ArrowRight');
  await expect(pos).toHaveText(`Step 2 of ${total}`);

  // The run exports as Chrome Trace Event JSON (Perfetto).
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export trace (Perfetto)' }).click();
  const trace = JSON.parse(await readFile(await (await download).path(), 'utf8')) as { traceEvents: { ph: string; pid: number; tid: number; ts: number; name: string }[] };
  expect(trace.traceEvents.some((e) => e.ph === 'X')).toBe(true);
  expect(trace.traceEvents.some((e) => e.ph === 'C')).toBe(true);
  expect(trace.traceEvents.some((e) => e.ph === 'i' && e.name.includes(BUGCHECK))).toBe(true);

  // Every run is kept: reload, find it in the history, replay it from there.
  await page.reload();
  await page.getByRole('tab', { name: 'History' }).click();
  const row = page.locator('rb-history-view tbody tr').filter({ hasText: SCENARIO }).first();
  await expect(row).toContainText(BUGCHECK);
  await expect(row).toContainText('dual-opteron-240');
  await row.getByRole('button', { name: /^Open run/ }).click();
  await expect(page.locator('rb-history-view').getByTestId('bugcheck')).toContainText(BUGCHECK);
  await row.getByRole('button', { name: /^Replay run/ }).click();
  await expect(page.getByRole('tab', { name: 'Run' })).toHaveAttribute('aria-selected', 'true');
  const replayed = page.locator('rb-run-view').getByTestId('bugcheck');
  await expect(replayed).toContainText(BUGCHECK, { timeout: 20_000 });
  await expect(replayed).toContainText(`at step ${failedStep}`);
  expect(await shownSchedule(page)).toBe(schedule);
  await expect(page.locator('rb-run-view').getByRole('heading', { name: /Replay of run #\d+/ })).toBeVisible();
});

test('a shared link replays the exact failure', async ({ page, context }) => {
  // Explore from a link (&run=1 starts at once), then open the link the app copies.
  await openApp(page, `?rig=dual-opteron-240&scenario=${SCENARIO}&seed=1&strategy=pct&run=1`);
  const bsod = page.getByTestId('bugcheck');
  await expect(bsod).toContainText(BUGCHECK, { timeout: 30_000 });
  const schedule = await shownSchedule(page);
  const step = (await bsod.textContent())!.match(/at step (\d+)/)![1];
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByRole('button', { name: 'Copy link', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Link copied' })).toBeVisible();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toContain(`schedule=${schedule}`);
  expect(link).toContain('rig=dual-opteron-240');

  const other = await context.newPage();
  await other.goto(link);
  const again = other.getByTestId('bugcheck');
  await expect(again).toContainText(BUGCHECK, { timeout: 30_000 });
  await expect(again).toContainText(`at step ${step}`);
  expect(await shownSchedule(other)).toBe(schedule);
  await expect(other.getByRole('heading', { name: /Replay of a shared link/ })).toBeVisible();
  // A link replay explored nothing: no "0.0 %, 0 / 0 schedules" card above its result.
  await expect(other.getByTestId('progress')).toHaveCount(0);
});

test('an invalid rig shows field errors and cannot be run', async ({ page }) => {
  await openApp(page);
  await pickRig(page, 'dual-opteron-240');
  await page.getByRole('spinbutton', { name: 'Cores', exact: true }).fill('0');
  await expect(page.getByRole('alert').filter({ hasText: 'must be an integer from 1 to 64' })).toBeVisible();
  // No picture of a machine the fields do not make (0 cores used to be drawn as 1).
  await expect(page.getByTestId('topology-invalid')).toBeVisible();
  await expect(page.getByRole('img', { name: /^Topology/ })).toHaveCount(0);
  await expect(page.getByRole('spinbutton', { name: 'Cores', exact: true })).toHaveAttribute('aria-invalid', 'true');
  await page.getByRole('combobox', { name: 'HAL', exact: true }).selectOption('up');
  await page.getByRole('spinbutton', { name: 'Cores', exact: true }).fill('4');
  await expect(page.getByRole('img', { name: /Windows starts only CPU 0; the other 3 logical CPUs do not run/ })).toBeVisible();
  await page.getByLabel('Rig id').fill('Bad Id');
  await page.getByRole('tab', { name: 'Run' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'The rig is invalid' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start' })).toBeDisabled();
});

test('an edited preset runs under its own id, and its failure link carries the rig', async ({ page, context }) => {
  await openApp(page);
  await pickRig(page, 'dual-opteron-240');
  await page.getByRole('spinbutton', { name: 'Cores', exact: true }).fill('3');
  await expect(page.getByLabel('Rig id')).toHaveValue('dual-opteron-240-edited');
  await page.getByRole('tab', { name: 'Run' }).click();
  await expect(page.getByText('dual-opteron-240-edited', { exact: true }).first()).toBeVisible();
  await pickScenario(page, SCENARIO_TITLE);
  await page.getByRole('tab', { name: 'Run' }).click();
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('bugcheck')).toContainText(BUGCHECK, { timeout: 60_000 });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByRole('button', { name: 'Copy link', exact: true }).click();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(new URL(link).searchParams.get('rig')).toBe('dual-opteron-240-edited');
  expect(new URL(link).searchParams.get('rigdoc')).toBeTruthy();
  const other = await context.newPage();
  await other.goto(link);
  await expect(other.getByTestId('bugcheck')).toContainText(BUGCHECK, { timeout: 30_000 });
});

test('write a small scenario in the editor and run it', async ({ page }) => {
  await openApp(page);
  await pickRig(page, 'dual-opteron-240');
  await page.getByRole('tab', { name: 'Editor' }).click();
  const editor = page.getByRole('textbox', { name: 'Scenario source (TypeScript)' });
  await expect(editor).toBeVisible({ timeout: 20_000 });
  const problems = page.getByTestId('diagnostics');
  await expect(problems).toContainText('No problems', { timeout: 20_000 });

  // A typo: the error points at its line.
  await editor.click();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.type('\nconst = 1;');
  const lines = (await editor.locator('.cm-line').count());
  await expect(problems.getByRole('button', { name: new RegExp(`^Line ${lines}:`) })).toBeVisible();
  await page.keyboard.press('ControlOrMeta+z');
  await expect(problems).toContainText('No problems');

  // A scenario-API mistake: the message names the field and points at its line.
  await page.getByRole('textbox', { name: 'Scenario source (TypeScript)' }).locator('.cm-line').filter({ hasText: "id: 'user/lost-update'" }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type("id: 'Not An Id',");
  await expect(problems.getByRole('button', { name: /^Line 6: .*id must look like/ })).toBeVisible();
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type("id: 'user/my-counter',");
  await expect(problems).toContainText('No problems');

  await page.getByRole('button', { name: 'Run scenario' }).click();
  await expect(page.getByRole('tab', { name: 'Run' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('outcome')).toContainText('no lost update', { timeout: 30_000 });
  await expect(page.getByTestId('failure-report')).toContainText('counter is 1, expected 2');

  // Saved with the user's scenarios and listed in the browser.
  await page.getByRole('tab', { name: 'Scenarios' }).click();
  await expect(page.getByRole('navigation', { name: 'Scenario library' }).getByRole('button', { name: /Counter bumped/ })).toBeVisible();
});

test('a malformed history file is refused with the reason and nothing is touched', async ({ page }) => {
  await openApp(page, `?rig=dual-opteron-240&scenario=spinlock/abba&seed=1&strategy=pct&run=1`);
  await expect(page.getByTestId('outcome')).toBeVisible({ timeout: 30_000 });
  await page.getByRole('tab', { name: 'History' }).click();
  const rows = page.locator('rb-history-view tbody tr');
  await expect(rows).toHaveCount(1);

  await page.locator('#import-file').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"racebox-history","version":1,"runs":[{"id":"x"}]') });
  await expect(page.getByRole('alert').filter({ hasText: 'broken.json was refused' })).toContainText('not JSON');
  await page.locator('#import-file').setInputFiles({ name: 'wrong.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ format: 'racebox-history', version: 1, exportedAt: new Date().toISOString(), runs: [{ id: 1 }], userRigs: [], userScenarios: [] })) });
  await expect(page.getByRole('alert').filter({ hasText: 'wrong.json was refused' })).toContainText('runs[0]');
  await expect(rows).toHaveCount(1);

  // A real export imports cleanly (its run is already there, so nothing is duplicated).
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export JSON' }).click();
  const file = await (await download).path();
  await page.locator('#import-file').setInputFiles(file);
  await expect(page.getByRole('status').filter({ hasText: 'Imported' })).toContainText('1 already present');
  await expect(rows).toHaveCount(1);

  // Delete asks first, then the run is gone.
  page.once('dialog', (d) => void d.accept());
  await rows.first().getByRole('button', { name: /^Delete run/ }).click();
  await expect(rows).toHaveCount(0);
  await expect(page.getByText('No runs yet')).toBeVisible();
});

test('without cross-origin isolation a banner explains it and the controlled engine still runs', async ({ page }) => {
  await page.route('**/*', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['cross-origin-opener-policy'];
    delete headers['cross-origin-embedder-policy'];
    await route.fulfill({ response, headers });
  });
  await openApp(page, `?rig=dual-opteron-240&scenario=${SCENARIO}&seed=1&strategy=pct&run=1`);
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
  await expect(page.getByTestId('isolation-banner')).toContainText('not cross-origin isolated');
  await expect(page.getByTestId('bugcheck')).toContainText(BUGCHECK, { timeout: 30_000 });
  await expect(page.getByRole('radio', { name: /Free-run/ })).toBeDisabled();
});

test('a long run shows progress, never blocks the page, and can be cancelled', async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=spinlock/ke-spinlock&seed=1&strategy=random');
  await page.getByLabel('Budget (schedules)').fill('2000000');
  await page.waitForTimeout(1000); // let the page settle (spare workers load) before measuring
  let before = 0;
  let after = 0;
  const tasks = await mainThreadTasks(page, async () => {
    await page.getByRole('button', { name: 'Start' }).click();
    await expect(page.getByTestId('progress')).toContainText('schedules/s');
    await expect(page.getByTestId('progress')).toContainText(/left at most/);
    const progress = page.locator('#run-progress');
    before = await progress.evaluate((e) => (e as HTMLProgressElement).value);
    await page.waitForTimeout(3000);
    after = await progress.evaluate((e) => (e as HTMLProgressElement).value);
  });
  expect(after).toBeGreaterThan(before);
  // All exploration runs in workers; the page only draws progress. No main-thread task may do 50 ms of
  // work. That is CPU time: on this 2-core host at load 6, a task doing under 50 ms of work was seen to take
  // 373 ms of wall time (the OS ran the workers meanwhile), so wall time only bounds a frozen page.
  expect(tasks.length, 'the trace holds the main thread\'s tasks').toBeGreaterThan(10);
  const busy = tasks.filter((t) => t.cpu > 50);
  expect(busy, `main-thread tasks doing over 50 ms of work: ${JSON.stringify(busy)}`).toEqual([]);
  expect(Math.max(0, ...tasks.map((t) => t.wall)), 'the longest main-thread task (wall time, ms)').toBeLessThan(1000);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled({ timeout: 5_000 });
  await expect(page.getByTestId('progress')).toContainText('Cancelled');
  // Stopped before its budget, a run with no failure is not a green "pass".
  await expect(page.getByTestId('outcome')).toHaveText(/^no failure in the [\d,]+ schedules run$/);
  await expect(page.getByTestId('outcome')).not.toHaveClass(/\bpass\b/);
});

test('a clean PCT run states how likely a missed bug still is', async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=spinlock/ke-spinlock&seed=1&strategy=pct&schedules=300&run=1');
  const bound = page.getByTestId('pct-bound');
  await expect(bound).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('outcome')).toHaveText('pass');
  await expect(bound).toContainText('What 300 clean PCT schedules tell you');
  await expect(bound).toContainText(/missed/);
  await expect(bound.getByRole('table')).toContainText('Schedules for 95 %');
});

test('number fields are checked when committed, never rewritten while typing', async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=spinlock/ke-spinlock&strategy=pct');
  await page.getByRole('tab', { name: 'Run' }).click();
  const budget = page.getByLabel('Budget (schedules)');
  await budget.fill('');
  await expect(budget).toHaveValue('');
  await budget.press('Tab');
  await expect(budget).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('Enter a whole number from 1 to 10,000,000.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start' })).toBeDisabled();
  await budget.pressSequentially('500');
  await expect(budget).toHaveValue('500');
  await budget.press('Tab');
  await expect(budget).toHaveAttribute('aria-invalid', 'false');
  await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled();
  const depth = page.getByLabel('PCT depth d', { exact: true });
  await depth.press('End');
  await depth.press('Backspace');
  await depth.pressSequentially('5');
  await expect(depth).toHaveValue('5');
  await depth.fill('99');
  await depth.press('Tab');
  await expect(page.getByText('99 is out of range: enter a whole number from 1 to 10.')).toBeVisible();
});

test('after Start the outcome is announced and keyboard focus is on the result', async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=spinlock/ke-spinlock&seed=1&strategy=random&schedules=50');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('announcer')).toHaveText('Run finished: pass after 50 schedules.', { timeout: 30_000 });
  await expect(page.getByRole('heading', { name: /^Result: / })).toBeFocused();
});

test('free-run on real workers from the run panel', async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=spinlock/ke-spinlock');
  await page.getByRole('tab', { name: 'Run' }).click();
  const free = page.getByRole('radio', { name: /Free-run/ });
  await expect(free).toBeEnabled({ timeout: 10_000 });
  await free.check();
  // What does not apply to free-run is not offered: no strategy, PCT depth or seed.
  await expect(page.getByLabel('Strategy')).toHaveCount(0);
  await expect(page.getByLabel('Seed')).toHaveCount(0);
  await expect(page.getByLabel('PCT depth d', { exact: true })).toHaveCount(0);
  await page.getByLabel('Budget (iterations)').fill('200');
  await page.getByRole('button', { name: 'Start' }).click();
  const report = page.getByTestId('free-run');
  await expect(report).toBeVisible({ timeout: 60_000 });
  await expect(report).toContainText('operations/s');
  await expect(page.getByTestId('outcome')).toHaveText('pass');
  const result = page.locator('rb-run-result .head .facts');
  await expect(result).toContainText(/free-run, one worker per CPU \(2\)/);
  await expect(result).toContainText(/iterations/);
  await expect(result).not.toContainText(/seed|schedules/);
  await expect(page.getByTestId('progress').locator('dt', { hasText: 'workers' }).locator('xpath=following-sibling::dd')).toHaveText('2');
  await page.getByRole('tab', { name: 'History' }).click();
  await expect(page.locator('rb-history-view tbody tr').first()).toContainText('free-run');
});

test('a deadlock shows who waits on what', async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=spinlock/naive-tas&seed=1&strategy=pct&run=1');
  const report = page.getByTestId('failure-report');
  await expect(report).toBeVisible({ timeout: 30_000 });
  await expect(report.getByRole('heading', { level: 2 })).toContainText('Deadlock');
  await expect(report).toContainText('Who waits on what');
  await expect(report).toContainText('spins on lock');
  await expect(page.getByTestId('timeline-position')).toBeVisible({ timeout: 20_000 });
});

test('a mangled schedule in a link is refused with the reason', async ({ page }) => {
  await openApp(page, `?rig=dual-opteron-240&scenario=${SCENARIO}&schedule=rb2.AQEYY2FuY2VsL25vLWV4Y2hhbmdl`);
  await expect(page.getByRole('alert').filter({ hasText: 'could not complete' })).toContainText(/schedule is (truncated|malformed)|checksum/, { timeout: 30_000 });
  await expect(page.getByTestId('bugcheck')).toHaveCount(0);
});

test('a link naming what is not here, or a setting out of range, runs nothing and says which', async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=user/not-here&run=1');
  await expect(page.getByRole('alert').filter({ hasText: 'user/not-here' })).toContainText('neither in the library nor one of your scenarios');
  await expect(page.getByRole('alert').filter({ hasText: 'Nothing was run' })).toBeVisible();
  await openApp(page, `?rig=dual-opteron-240&scenario=${SCENARIO}&depth=999999&schedules=1e12&seed=-1&run=1`);
  for (const [param, range] of [['depth', 'from 1 to 20'], ['schedules', 'from 1 to 1000000000'], ['seed', 'from 0 to 4294967295']]) {
    await expect(page.getByRole('alert').filter({ hasText: `The link's ${param}` })).toContainText(range);
  }
  await expect(page.getByRole('alert').filter({ hasText: 'Nothing was run' })).toBeVisible();
  // Neither link ran anything: no outcome, and the history is empty.
  await expect(page.getByTestId('outcome')).toHaveCount(0);
  await page.getByRole('tab', { name: 'History' }).click();
  await expect(page.getByText('No runs yet')).toBeVisible();
});

test('a tab chosen while a link is still loading stays chosen', async ({ page }) => {
  // Hold the link's scenario module so the click surely lands before the link is applied.
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  await page.route(/\/abba[^/]*\.js(\?.*)?$/, async (route) => {
    await held;
    await route.continue();
  });
  await openApp(page, '?rig=p4-ht&scenario=spinlock/abba&seed=3');
  await page.getByRole('tab', { name: 'History' }).click();
  release();
  // The link was applied behind the chosen tab: the run view has its rig, scenario and seed.
  await expect(page.getByLabel('Seed')).toHaveValue('3', { timeout: 30_000 });
  await expect(page.locator('rb-run-view')).toContainText('abba', { timeout: 30_000 });
  await expect(page.getByRole('tab', { name: 'History' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tab', { name: 'Run' })).toHaveAttribute('aria-selected', 'false');
});

test('a schedule from an older Racebox (rb1) in a link is refused, not misreplayed', async ({ page }) => {
  await openApp(page, `?rig=dual-opteron-240&scenario=${SCENARIO}&schedule=rb1.AQEYY2FuY2VsL25vLWV4Y2hhbmdl`);
  await expect(page.getByRole('alert').filter({ hasText: 'could not complete' })).toContainText(/recorded by an older Racebox \(format rb1\)/, { timeout: 30_000 });
  await expect(page.getByTestId('bugcheck')).toHaveCount(0);
});
