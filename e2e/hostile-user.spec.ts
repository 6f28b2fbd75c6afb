/**
 * Hostile and broken user scenarios in the app (issue 14): user code runs in the scenario sandbox
 * (docs/sandbox.md), a link never runs it without asking, a hung replay and a hung editor check are contained.
 * Runs under playwright.config.ts with the rest, or with e2e/sandbox.config.ts on port 4174.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { openApp } from './helpers.ts';

const IRQL_AS_LOCK = readFileSync(new URL('../scenarios/spinlock/irql-as-lock.ts', import.meta.url), 'utf8');
/** Every request user code attempts goes to a path with this marker, on the app's own origin. */
const CANARY = '__racebox-canary';

/** irql-as-lock under another id and title, with `setup` replaced (its body must return the state). */
function userScenario(id: string, title: string, setupBody = "return { counter: k.ExAllocatePool2(0, 4, 'Cntr') };"): string {
  const s = IRQL_AS_LOCK.replace("id: 'spinlock/irql-as-lock'", `id: '${id}'`)
    .replace("title: 'Raising IRQL to DISPATCH_LEVEL used as a lock'", `title: '${title}'`)
    .replace("setup: (k) => ({ counter: k.ExAllocatePool2(0, 4, 'Cntr') }),", `setup: (k) => { ${setupBody} },`);
  expect(s).toContain(`id: '${id}'`);
  expect(s).toContain(setupBody);
  return s;
}

/**
 * Tries every way out the issue names, synchronously in setup (so what happened is in the invariant's message),
 * plus fetch and sendBeacon (asynchronous: only the canary witness tells whether they got out).
 */
function hostileSource(appOrigin: string): string {
  const body = `
    const tried: string[] = [];
    const g = globalThis as unknown as Record<string, any>;
    const attempt = (name: string, f: () => unknown) => { try { tried.push(name + ':ok:' + String(f())); } catch (e) { tried.push(name + ':' + (e as Error).name); } };
    attempt('indexedDB', () => g.indexedDB.deleteDatabase('racebox'));
    attempt('xhr', () => { const x = new g.XMLHttpRequest(); x.open('GET', '${appOrigin}/${CANARY}/xhr', false); x.send(); return x.status; });
    attempt('caches', () => g.caches.delete('racebox'));
    attempt('fetch', () => { void g.fetch('${appOrigin}/${CANARY}/fetch').catch(() => undefined); return 'sent'; });
    attempt('beacon', () => g.navigator.sendBeacon('${appOrigin}/${CANARY}/beacon', 'x'));
    g.tried = tried.join(' ');
    return { counter: k.ExAllocatePool2(0, 4, 'Cntr') };`;
  return userScenario('user/hostile', 'Hostile counter', body).replace(
    "'no lost update': (s, k) =>",
    "'no lost update': (s, k) => 'tried ' + (globalThis as unknown as { tried: string }).tried + ' |' ||",
  );
}

function historyFile(scenarios: { id: string; title: string; source: string }[]): Buffer {
  return Buffer.from(JSON.stringify({
    format: 'racebox-history', version: 1, exportedAt: new Date().toISOString(), runs: [], userRigs: [],
    userScenarios: scenarios.map((s) => ({ ...s, updatedAt: Date.now() - 86_400_000 })),
  }));
}

async function serveCanary(context: BrowserContext): Promise<string[]> {
  const arrived: string[] = [];
  await context.route(`**/${CANARY}/**`, (route) => {
    arrived.push(new URL(route.request().url()).pathname);
    return route.fulfill({ status: 200, body: '', headers: { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' } });
  });
  return arrived;
}

/** Runs stored in the app's history database, read the way the app reads them. */
function storedRuns(page: Page): Promise<number> {
  return page.evaluate(() => new Promise<number>((resolve, reject) => {
    const q = indexedDB.open('racebox');
    q.onerror = () => reject(q.error);
    q.onsuccess = () => {
      const db = q.result;
      const c = db.transaction('runs').objectStore('runs').count();
      c.onsuccess = () => { db.close(); resolve(c.result); };
      c.onerror = () => { db.close(); reject(c.error); };
    };
  }));
}

/**
 * Prints one row of the time-to-containment table (docs/limits.md): the case, the limit that contained it, the
 * time measured and what that time spans. `npx playwright test e2e/hostile-user.spec.ts | grep '^| browser'`.
 */
function containment(what: string, limit: string, ms: number, spans: string): void {
  console.log(`| ${what} | ${limit} | ${(ms / 1000).toFixed(1)} s | ${spans} |`);
}

async function importFile(page: Page, name: string, buffer: Buffer): Promise<void> {
  await page.getByRole('tab', { name: 'History' }).click();
  await page.locator('#import-file').setInputFiles({ name, mimeType: 'application/json', buffer });
  await expect(page.getByRole('status').filter({ hasText: 'Imported' })).toBeVisible();
}

test('a hostile user scenario, imported and then opened by a link, can neither delete the history nor make a network request', async ({ page, context }) => {
  test.setTimeout(120_000);
  const arrived = await serveCanary(context);
  // A run in the history first (a library scenario), so there is something to delete.
  await openApp(page, '?rig=dual-opteron-240&scenario=spinlock/abba&seed=1&strategy=pct&run=1');
  await expect(page.getByTestId('outcome')).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => storedRuns(page)).toBe(1);
  const appOrigin = new URL(page.url()).origin;

  await importFile(page, 'colleague-history.json', historyFile([{ id: 'user/hostile', title: 'Hostile counter', source: hostileSource(appOrigin) }]));
  await page.getByRole('tab', { name: 'Scenarios' }).click();
  const listed = page.getByRole('navigation', { name: 'Scenario library' }).getByRole('button', { name: /Hostile counter/ });
  await expect(listed).toContainText('imported');

  // The link asks before it runs the code, naming the scenario and where it came from; nothing runs until then.
  await page.goto('/?rig=dual-opteron-240&scenario=user/hostile&seed=1&strategy=random&schedules=200&run=1');
  const dialog = page.getByRole('dialog', { name: "Run this scenario's code?" });
  await expect(dialog).toBeVisible({ timeout: 20_000 });
  await expect(dialog).toContainText('A link asks to run');
  await expect(dialog.locator('.id')).toHaveText('user/hostile');
  await expect(dialog.locator('.title')).toHaveText('Hostile counter');
  await expect(dialog.locator('.origin')).toContainText('imported from colleague-history.json on');
  await expect(page.getByTestId('progress')).toHaveCount(0);
  expect(await storedRuns(page)).toBe(1);
  await dialog.getByRole('button', { name: 'Run it' }).click();

  // It ran in the sandbox: every way out was refused there, and the race was still found.
  const report = page.getByTestId('failure-report');
  await expect(report).toBeVisible({ timeout: 60_000 });
  await expect(report).toContainText('tried indexedDB:SecurityError xhr:NetworkError caches:');
  await expect(report).not.toContainText('indexedDB:ok');
  await expect(page.getByRole('alert').filter({ hasText: 'newer Racebox' })).toHaveCount(0);
  await expect.poll(() => storedRuns(page)).toBe(2);
  await page.waitForTimeout(1000);
  expect(arrived).toEqual([]);
  // The history is intact after a reload too.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Racebox' })).toBeVisible();
  expect(await storedRuns(page)).toBe(2);
});

test('a link that would run an imported scenario runs nothing when the user declines', async ({ page }) => {
  await openApp(page);
  await importFile(page, 'h.json', historyFile([{ id: 'user/declined', title: 'Declined counter', source: userScenario('user/declined', 'Declined counter') }]));
  await page.goto('/?rig=dual-opteron-240&scenario=user/declined&run=1');
  const dialog = page.getByRole('dialog', { name: "Run this scenario's code?" });
  await expect(dialog).toBeVisible({ timeout: 20_000 });
  await dialog.getByRole('button', { name: "Don't run" }).click();
  await expect(page.getByRole('alert').filter({ hasText: "asked to run your scenario 'user/declined'; it was not run" })).toBeVisible();
  await expect(page.getByTestId('progress')).toHaveCount(0);
});

test('a replay that hangs is stopped by its watchdog or by Cancel, and the next failure still gets its timeline', async ({ page }) => {
  test.setTimeout(150_000);
  await openApp(page);
  // Hangs in the sandbox's replay worker only (its exploration workers have other names), so exploring finds the race.
  const hanging = userScenario('user/replay-hang', 'Replay hangs',
    "if ((globalThis as unknown as { name?: string }).name === 'racebox-sandbox-replay') for (;;) {} return { counter: k.ExAllocatePool2(0, 4, 'Cntr') };");
  await importFile(page, 'h.json', historyFile([
    { id: 'user/replay-hang', title: 'Replay hangs', source: hanging },
    { id: 'user/plain', title: 'Plain counter', source: userScenario('user/plain', 'Plain counter') },
  ]));
  await page.goto('/?rig=dual-opteron-240&scenario=user/replay-hang&seed=1&strategy=random&schedules=200&run=1');
  await page.getByRole('dialog').getByRole('button', { name: 'Run it' }).click();
  await expect(page.getByTestId('failure-report')).toBeVisible({ timeout: 60_000 });
  const shown = Date.now();
  // Its timeline's replay hangs: the watchdog ends it and says so.
  await expect(page.getByRole('alert').filter({ hasText: 'the replay did not finish within' })).toBeVisible({ timeout: 30_000 });
  const limit = await page.getByRole('alert').filter({ hasText: 'the replay did not finish within' }).textContent();
  containment('browser replay hang (its timeline replay)', `the replay watchdog (${/within ([\d.]+ s)/.exec(limit ?? '')?.[1]})`, Date.now() - shown, 'from the failure shown to the watchdog\'s alert, the limit included');

  // Replay by hand, then Cancel: the replay's worker ends at once.
  await page.getByRole('button', { name: 'Replay', exact: true }).click();
  await expect(page.getByTestId('progress')).toContainText('Replaying the schedule');
  await page.waitForTimeout(500);
  const cancelAt = Date.now();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled({ timeout: 5_000 });
  containment('browser replay hang, cancelled', 'Cancel', Date.now() - cancelAt, 'from Cancel to Start enabled again');
  await expect(page.getByTestId('progress')).toContainText('Cancelled');

  // Without a reload: another user scenario's failure gets its timeline (a fresh replay worker).
  await page.getByRole('tab', { name: 'Scenarios' }).click();
  await page.getByRole('navigation', { name: 'Scenario library' }).getByRole('button', { name: /Plain counter/ }).click();
  await expect(page.getByTestId('diagnostics')).toContainText('No problems', { timeout: 20_000 });
  await page.getByRole('button', { name: 'Run scenario' }).click();
  await expect(page.getByTestId('failure-report')).toContainText('an increment was lost', { timeout: 60_000 });
  await expect(page.getByTestId('timeline-position')).toBeVisible({ timeout: 30_000 });
});

test('the editor: a top-level endless loop times out with a message, the editor stays usable, and the draft survives a reload', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page);
  await page.evaluate(() => localStorage.clear());
  await page.getByRole('tab', { name: 'Editor' }).click();
  const editor = page.getByRole('textbox', { name: 'Scenario source (TypeScript)' });
  await expect(editor).toBeVisible({ timeout: 20_000 });
  const problems = page.getByTestId('diagnostics');
  await expect(problems).toContainText('No problems', { timeout: 20_000 });

  await editor.click();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.type('\nwhile (true) {}');
  const typed = Date.now();
  const lines = await editor.locator('.cm-line').count();
  await expect(problems.getByRole('button', { name: new RegExp(`^Line ${lines}: the scenario did not finish loading within 2 s — an endless loop at top level\\?`) }))
    .toBeVisible({ timeout: 15_000 });
  containment('browser editor check, top-level endless loop', 'the check timeout (2 s)', Date.now() - typed, 'from typing the loop to its message, the limit and the typing pause included');
  // Save still answers (it checks again, which times out again).
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Fix the errors first')).toBeVisible({ timeout: 15_000 });

  // Remove the loop: the checker (a fresh worker) answers again.
  await editor.locator('.cm-line').filter({ hasText: 'while (true)' }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type('// draft marker 4711');
  await expect(problems).toContainText('No problems', { timeout: 15_000 });

  // The unsaved draft is back after a reload.
  await page.waitForTimeout(300);
  await page.reload();
  await page.getByRole('tab', { name: 'Editor' }).click();
  await expect(editor).toBeVisible({ timeout: 20_000 });
  await expect(editor).toContainText('// draft marker 4711');
  await expect(page.getByText('Restored your unsaved draft')).toBeVisible();
});

test('free-run of a user scenario runs in the sandbox, over shared memory made there', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page);
  await importFile(page, 'h.json', historyFile([{ id: 'user/plain', title: 'Plain counter', source: userScenario('user/plain', 'Plain counter') }]));
  await page.goto('/?rig=dual-opteron-240&scenario=user/plain&engine=free&schedules=300&run=1');
  await page.getByRole('dialog').getByRole('button', { name: 'Run it' }).click();
  await expect(page.getByTestId('free-run')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('free-run')).toContainText('operations/s');
  await expect(page.getByRole('alert').filter({ hasText: 'could not complete' })).toHaveCount(0);
});

test('Cancel stops a long exploration of a user scenario in the sandbox at once', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page);
  const clean = userScenario('user/clean', 'Clean counter').replace("'no lost update': (s, k) =>", "'no lost update': (s, k) => true ||");
  expect(clean).toContain('=> true ||');
  await importFile(page, 'h.json', historyFile([{ id: 'user/clean', title: 'Clean counter', source: clean }]));
  await page.goto('/?rig=dual-opteron-240&scenario=user/clean&seed=1&strategy=random&schedules=2000000&run=1');
  await page.getByRole('dialog').getByRole('button', { name: 'Run it' }).click();
  await expect(page.getByTestId('progress')).toContainText('schedules/s', { timeout: 30_000 });
  await expect.poll(async () => Number(await page.locator('#run-progress').evaluate((e) => (e as HTMLProgressElement).value)), { timeout: 30_000 }).toBeGreaterThan(0);
  const cancelAt = Date.now();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled({ timeout: 5_000 });
  containment('browser long exploration, cancelled', 'Cancel', Date.now() - cancelAt, 'from Cancel to Start enabled again');
  await expect(page.getByTestId('progress')).toContainText('Cancelled');
});

test('an imported scenario started with the Start button asks first, naming it and its file; declined, nothing runs', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page);
  await importFile(page, 'from-a-colleague.json', historyFile([{ id: 'user/started', title: 'Started counter', source: userScenario('user/started', 'Started counter') }]));
  const before = await storedRuns(page);
  // A link that only selects it (no &run=1): nothing runs, and the Start button is the user's.
  await page.goto('/?rig=dual-opteron-240&scenario=user/started&seed=1&strategy=random&schedules=200');
  const start = page.getByRole('button', { name: 'Start' });
  await expect(start).toBeEnabled({ timeout: 20_000 });
  const dialog = page.getByRole('dialog', { name: "Run this scenario's code?" });
  await expect(dialog).toHaveCount(0);

  await start.click();
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('The Start button asks to run');
  await expect(dialog.locator('.id')).toHaveText('user/started');
  await expect(dialog.locator('.title')).toHaveText('Started counter');
  await expect(dialog.locator('.origin')).toContainText('imported from from-a-colleague.json on');
  await dialog.getByRole('button', { name: "Don't run" }).click();
  await expect(page.getByRole('alert').filter({ hasText: "The Start button asked to run the imported scenario 'user/started'; it was not run" })).toBeVisible();
  await expect(page.getByTestId('progress')).toHaveCount(0);
  expect(await storedRuns(page)).toBe(before);

  // Agreed: it runs (and its timeline's replay does not ask again); a second Start does not ask again in this page.
  await start.click();
  await dialog.getByRole('button', { name: 'Run it' }).click();
  await expect(page.getByTestId('failure-report')).toContainText('an increment was lost', { timeout: 60_000 });
  await expect.poll(() => storedRuns(page), { timeout: 20_000 }).toBeGreaterThan(before);
  await expect(page.getByTestId('timeline-position')).toBeVisible({ timeout: 30_000 });
  await expect(start).toBeEnabled({ timeout: 20_000 });
  await start.click();
  await expect(page.getByTestId('progress')).toBeVisible();
  await expect(dialog).toHaveCount(0);
});

/** The outcome of the newest run stored in the app's history. */
function newestOutcome(page: Page): Promise<string | undefined> {
  return page.evaluate(() => new Promise<string | undefined>((resolve, reject) => {
    const q = indexedDB.open('racebox');
    q.onerror = () => reject(q.error);
    q.onsuccess = () => {
      const db = q.result;
      const c = db.transaction('runs').objectStore('runs').openCursor(null, 'prev');
      c.onsuccess = () => { db.close(); resolve((c.result?.value as { outcome?: string } | undefined)?.outcome); };
      c.onerror = () => { db.close(); reject(c.error); };
    };
  }));
}

test('a user scenario that allocates without bound is stopped by the sandbox memory watchdog: outcome error naming the limit, saved, the box still runs', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page);
  // 64 MB of ArrayBuffer kept per schedule, in every exploration worker (its pages untouched: Chromium here
  // takes over a second to fill 64 MB, and what is measured is the watchdog, not the host's page faults).
  const hog = userScenario('user/memory-hog', 'Memory hog',
    "const g = globalThis as unknown as { kept?: Uint8Array[] }; (g.kept ??= []).push(new Uint8Array(64 * 1024 * 1024)); return { counter: k.ExAllocatePool2(0, 4, 'Cntr') };")
    .replace("'no lost update': (s, k) =>", "'no lost update': (s, k) => true ||");
  expect(hog).toContain('=> true ||');
  await importFile(page, 'h.json', historyFile([
    { id: 'user/memory-hog', title: 'Memory hog', source: hog },
    { id: 'user/plain', title: 'Plain counter', source: userScenario('user/plain', 'Plain counter') },
  ]));
  const before = await storedRuns(page);
  await page.goto('/?rig=dual-opteron-240&scenario=user/memory-hog&seed=1&strategy=random&schedules=100000&run=1');
  const t0 = Date.now();
  await page.getByRole('dialog').getByRole('button', { name: 'Run it' }).click();
  await expect(page.getByTestId('outcome')).toBeVisible({ timeout: 60_000 });
  const ms = Date.now() - t0;
  const facts = page.getByTestId('run-facts');
  await expect(facts).toHaveAttribute('data-outcome', 'error');
  await expect(page.getByTestId('failure-report')).toContainText('the scenario used more than the sandbox memory limit of 1,024 MB of ArrayBuffers per worker');
  const elapsed = Number(await facts.getAttribute('data-elapsed-ms'));
  containment('browser memory hog (64 MB of ArrayBuffer per schedule)', 'sandbox memory (1,024 MB of ArrayBuffers per worker)', elapsed,
    `the run's whole time, reaching the limit included (the allocation over it is refused at once); ${ms} ms from Run it to the outcome shown`);
  await expect.poll(() => storedRuns(page), { timeout: 20_000 }).toBe(before + 1);
  expect(await newestOutcome(page)).toBe('error');

  // The box still runs: another user scenario finds its race, in fresh sandbox workers.
  await page.goto('/?rig=dual-opteron-240&scenario=user/plain&seed=1&strategy=random&schedules=200&run=1');
  await page.getByRole('dialog').getByRole('button', { name: 'Run it' }).click();
  await expect(page.getByTestId('failure-report')).toContainText('an increment was lost', { timeout: 60_000 });
});

test('a user scenario whose setup loops without yielding ends as hang by the stall watchdog in the sandbox, and is saved', async ({ page }) => {
  test.setTimeout(150_000);
  await openApp(page);
  await importFile(page, 'h.json', historyFile([{ id: 'user/loop-setup', title: 'Setup loops', source: userScenario('user/loop-setup', 'Setup loops', 'for (;;) {}') }]));
  const before = await storedRuns(page);
  await page.goto('/?rig=dual-opteron-240&scenario=user/loop-setup&seed=1&strategy=random&schedules=200&run=1');
  await page.getByRole('dialog').getByRole('button', { name: 'Run it' }).click();
  const started = Date.now();
  await expect(page.getByTestId('outcome')).toBeVisible({ timeout: 90_000 });
  const facts = page.getByTestId('run-facts');
  await expect(facts).toHaveAttribute('data-outcome', 'hang');
  await expect(page.getByTestId('failure-report')).toContainText('did not return to the scheduler within 10 s');
  containment('browser setup loops without yielding', 'wall time without a step (10 s)', Date.now() - started,
    'from Run it to the outcome shown, the limit and the sandbox start included');
  await expect.poll(() => storedRuns(page), { timeout: 20_000 }).toBe(before + 1);
  expect(await newestOutcome(page)).toBe('hang');
  await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled();
});
