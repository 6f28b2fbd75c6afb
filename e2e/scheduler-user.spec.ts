/**
 * Be the scheduler with a user scenario (issue 15): the manual run's picks are computed in the scenario sandbox
 * (docs/sandbox.md), the page only draws what comes back. The scenario's code leaves a witness where it runs
 * (a global, and the origin it saw, in the invariant's message): the sandbox's origin is opaque ('null'), and
 * neither the page nor any worker of the app's origin may carry the witness.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { openApp } from './helpers.ts';

// Every pick replays the run from its start in a sandbox worker: a few hundred milliseconds each on a busy host.
test.describe.configure({ timeout: 240_000 });

const RIG = 'dual-opteron-240';
const IRQL_AS_LOCK = readFileSync(new URL('../scenarios/spinlock/irql-as-lock.ts', import.meta.url), 'utf8');
/** The global the user code sets wherever it is evaluated. */
const WITNESS = '__raceboxUserCodeRan';
/** Every request user code attempts goes to a path with this marker, on the app's own origin. */
const CANARY = '__racebox-canary';

/** irql-as-lock as a user's scenario: its own id and title, a witness at top level, the origin in its message. */
function userScenario(id: string, title: string, appOrigin: string): string {
  const s = IRQL_AS_LOCK.replace("id: 'spinlock/irql-as-lock'", `id: '${id}'`)
    .replace("title: 'Raising IRQL to DISPATCH_LEVEL used as a lock'", `title: '${title}'`)
    .replace(/^export default defineScenario\(/m,
      `(globalThis as unknown as Record<string, unknown>).${WITNESS} = String(globalThis.origin);\n` +
      `void globalThis.fetch?.('${appOrigin}/${CANARY}/scheduler').catch(() => undefined);\n\nexport default defineScenario(`)
    .replace('an increment was lost`', 'an increment was lost (ran in origin ${String(globalThis.origin)})`')
    .replace(/\s*seeds: \[[^\]]*\],/, '')
    .replace(/\s*pairedWith: '[^']*',/, '');
  expect(s).toContain(`id: '${id}'`);
  expect(s).toContain(WITNESS);
  expect(s).toContain('ran in origin');
  return s;
}

/** Takes choice `id` (or the default when undefined) and waits for the engine's answer. */
async function pick(pane: Locator, id: number | undefined): Promise<void> {
  const status = pane.getByTestId('manual-status');
  const before = await status.textContent();
  const button = id === undefined ? pane.locator('ul.choices button', { hasText: '(default)' }) : pane.locator(`ul.choices button[data-choice="${id}"]`);
  await button.click();
  await expect(status).not.toHaveText(before ?? '', { timeout: 20_000 });
}

async function offered(pane: Locator): Promise<number[]> {
  return pane.locator('ul.choices button').evaluateAll((bs) => bs.map((b) => Number(b.getAttribute('data-choice'))));
}

async function stepSeen(pane: Locator, cpu: number, op: string): Promise<boolean> {
  return (await pane.locator(`ol.steps li[data-cpu="${cpu}"][data-op="${op}"]`).count()) > 0;
}

async function facts(page: Page): Promise<Locator> {
  const f = page.getByTestId('run-facts');
  await expect(f).toHaveAttribute('data-outcome', /.+/, { timeout: 60_000 });
  return f;
}

/** Whether the witness is set in the page or in any worker of the app's origin (the sandbox's are blob:null/…). */
async function witnessInAppOrigin(page: Page): Promise<string[]> {
  const origin = new URL(page.url()).origin;
  const found: string[] = [];
  const inPage = await page.evaluate((w) => (globalThis as unknown as Record<string, unknown>)[w], WITNESS);
  if (inPage !== undefined) found.push(`page: ${String(inPage)}`);
  const appWorkers = page.workers().filter((w) => w.url().startsWith(origin));
  expect(appWorkers.length).toBeGreaterThan(0);
  for (const w of appWorkers) {
    const v = await w.evaluate((name) => (globalThis as unknown as Record<string, unknown>)[name], WITNESS).catch(() => undefined);
    if (v !== undefined) found.push(`${w.url()}: ${String(v)}`);
  }
  return found;
}

/** Picks CPU 0 until it has read the counter, CPU 1 until it has written it, then CPU 0 (or the default) to the end. */
async function loseAnUpdate(pane: Locator): Promise<void> {
  for (let guard = 0; guard < 100 && !(await stepSeen(pane, 0, 'read')); guard++) await pick(pane, 0);
  for (let guard = 0; guard < 100 && !(await stepSeen(pane, 1, 'write')); guard++) await pick(pane, 1);
  for (let guard = 0; guard < 200 && (await pane.getByTestId('manual-outcome').count()) === 0; guard++) {
    await pick(pane, (await offered(pane)).includes(0) ? 0 : undefined);
  }
}

test('be the scheduler for a scenario written in the editor: picks run in the sandbox, and the hand-made schedule replays', async ({ page, context }) => {
  const arrived: string[] = [];
  await context.route(`**/${CANARY}/**`, (route) => {
    arrived.push(new URL(route.request().url()).pathname);
    return route.fulfill({ status: 200, body: '' });
  });
  await openApp(page, `?rig=${RIG}`);
  const appOrigin = new URL(page.url()).origin;
  const id = 'user/sched-counter';

  // Written in the editor (the whole text replaced, as a paste would), checked, saved and run once.
  // The link's rig is applied after the first paint; a tab chosen before that stays chosen.
  const editor = page.getByRole('textbox', { name: 'Scenario source (TypeScript)' });
  await page.getByRole('tab', { name: 'Editor' }).click();
  await expect(editor).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('diagnostics')).toContainText('No problems', { timeout: 20_000 });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.insertText(userScenario(id, 'Counter raised to DISPATCH by hand', appOrigin));
  await expect(editor).toContainText(WITNESS);
  await expect(page.getByTestId('diagnostics')).toContainText('No problems', { timeout: 20_000 });
  await page.getByRole('button', { name: 'Run scenario' }).click();
  await expect(page.getByRole('tab', { name: 'Run' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('failure-report')).toContainText('ran in origin null', { timeout: 60_000 });

  const pane = page.getByTestId('scheduler');
  // From a step of the run on screen: its choices before that step are kept.
  await pane.getByLabel('Step of the run on screen').fill('2');
  await pane.getByLabel('Step of the run on screen').dispatchEvent('change');
  await pane.getByTestId('manual-from').click();
  await expect(pane.getByTestId('manual-status')).toContainText(/Step \d+: pick/, { timeout: 30_000 });
  expect(Number(/Step (\d+)/.exec((await pane.getByTestId('manual-status').textContent()) ?? '')![1])).toBeGreaterThanOrEqual(2);
  await expect(pane.locator('ol.steps li').first()).toContainText('#0 ');
  await pane.getByRole('button', { name: 'Stop' }).click();

  // Take the scheduler's place from the first step: the choices come from the sandbox, with their labels.
  await expect(pane.getByTestId('manual-start')).toBeVisible();
  await pane.getByTestId('manual-start').click();
  await expect(pane.getByTestId('manual-status')).toContainText('Step 0');
  expect(await offered(pane)).toEqual([0, 1, 4]);
  await expect(pane.locator('ul.choices button[data-choice="1"]')).toContainText("CPU 1: thread 'second'");
  await expect(pane.locator('ul.choices button[data-choice="4"]')).toContainText('timerDpc arrives');

  // Step back: the pick is undone without asking the engine.
  await pick(pane, 1);
  const afterOne = await pane.getByTestId('manual-status').textContent();
  await pane.getByRole('button', { name: 'Back one pick' }).click();
  await expect(pane.getByTestId('manual-status')).toContainText('Step 0');
  expect(await offered(pane)).toEqual([0, 1, 4]);
  expect(afterOne).not.toContain('Step 0:');

  // The lost update by hand.
  await loseAnUpdate(pane);
  await expect(pane.getByTestId('manual-outcome')).toContainText("invariant 'no lost update' broken");
  // A link cannot carry the scenario: the schedule string is shown instead.
  await expect(pane.getByTestId('manual-link')).toHaveCount(0);
  const schedule = await pane.getByTestId('manual-schedule').inputValue();
  expect(schedule).toMatch(/^rb2\./);

  // Replayed here (in the sandbox too): the same failure, from the same schedule.
  await pane.getByTestId('manual-replay').click();
  await expect(page.getByRole('heading', { name: /Replay of a hand-made schedule/ })).toBeVisible({ timeout: 30_000 });
  const here = await facts(page);
  await expect(here).toHaveAttribute('data-invariant', 'no lost update');
  await expect(here).toHaveAttribute('data-schedule', schedule);
  await expect(page.getByTestId('failure-report')).toContainText('ran in origin null');

  // The schedule string alone replays it, by a link in this browser (which has the scenario): asked first.
  await page.goto(`/?rig=${RIG}&scenario=${encodeURIComponent(id)}&schedule=${encodeURIComponent(schedule)}`);
  const dialog = page.getByRole('dialog', { name: "Run this scenario's code?" });
  await expect(dialog).toBeVisible({ timeout: 20_000 });
  await dialog.getByRole('button', { name: 'Run it' }).click();
  const there = await facts(page);
  await expect(there).toHaveAttribute('data-invariant', 'no lost update');
  await expect(there).toHaveAttribute('data-schedule', schedule);

  // The user code never ran in the app's origin (page or its workers), and reached no network.
  expect(await witnessInAppOrigin(page)).toEqual([]);
  await page.waitForTimeout(500);
  expect(arrived).toEqual([]);
});

test('be the scheduler for an imported scenario asks first, naming it; declined, nothing runs; agreed, the picks run in the sandbox', async ({ page }) => {
  await openApp(page);
  const appOrigin = new URL(page.url()).origin;
  const id = 'user/imported-counter';
  const file = Buffer.from(JSON.stringify({
    format: 'racebox-history', version: 1, exportedAt: new Date().toISOString(), runs: [], userRigs: [],
    userScenarios: [{ id, title: 'Imported counter', source: userScenario(id, 'Imported counter', appOrigin), updatedAt: Date.now() - 86_400_000 }],
  }));
  await page.getByRole('tab', { name: 'History' }).click();
  await page.locator('#import-file').setInputFiles({ name: 'from-a-colleague.json', mimeType: 'application/json', buffer: file });
  await expect(page.getByRole('status').filter({ hasText: 'Imported' })).toBeVisible();

  // A link that only selects it: nothing runs until the user takes the scheduler's place, and then it asks.
  await page.goto(`/?rig=${RIG}&scenario=${encodeURIComponent(id)}`);
  await page.getByRole('tab', { name: 'Run' }).click();
  const pane = page.getByTestId('scheduler');
  const start = pane.getByTestId('manual-start');
  await expect(start).toBeEnabled({ timeout: 20_000 });
  const dialog = page.getByRole('dialog', { name: "Run this scenario's code?" });
  await start.click();
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('The scheduler pane asks to run');
  await expect(dialog.locator('.id')).toHaveText(id);
  await expect(dialog.locator('.origin')).toContainText('imported from from-a-colleague.json on');
  await dialog.getByRole('button', { name: "Don't run" }).click();
  await expect(page.getByRole('alert').filter({ hasText: `The scheduler pane asked to run the imported scenario '${id}'; it was not run` })).toBeVisible();
  await expect(pane.getByTestId('manual-status')).toHaveCount(0);

  await start.click();
  await dialog.getByRole('button', { name: 'Run it' }).click();
  await expect(pane.getByTestId('manual-status')).toContainText('Step 0', { timeout: 30_000 });
  expect(await offered(pane)).toEqual([0, 1, 4]);
  // Agreed once: the next picks do not ask again.
  await pick(pane, 0);
  await expect(dialog).toHaveCount(0);
  // Search from here: an exploration in the sandbox that keeps the picks so far.
  const at = Number(/Step (\d+)/.exec((await pane.getByTestId('manual-status').textContent()) ?? '')![1]);
  await pane.getByTestId('manual-search').click();
  await expect(page.getByRole('heading', { name: `Search from step ${at}` })).toBeVisible({ timeout: 30_000 });
  const found = page.getByTestId('run-facts');
  await expect(found).toHaveAttribute('data-outcome', 'invariant', { timeout: 60_000 });
  await expect(page.getByTestId('failure-report')).toContainText('ran in origin null');
  await expect(dialog).toHaveCount(0);
  await loseAnUpdate(pane);
  await expect(pane.getByTestId('manual-outcome')).toContainText("invariant 'no lost update' broken");
  expect(await witnessInAppOrigin(page)).toEqual([]);
});
