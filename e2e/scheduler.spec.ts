import { expect, test, type Locator, type Page } from '@playwright/test';
import { openApp } from './helpers.ts';

const RIG = 'dual-opteron-240';

// Every pick replays the run from its start in a worker: a few hundred milliseconds each on a busy host.
test.describe.configure({ timeout: 180_000 });
const LOST_UPDATE = 'spinlock/irql-as-lock';

/** Takes choice `id` (or the default when undefined) and waits for the engine's answer. */
async function pick(pane: Locator, id: number | undefined): Promise<void> {
  const status = pane.getByTestId('manual-status');
  const before = await status.textContent();
  const button = id === undefined ? pane.locator('ul.choices button', { hasText: '(default)' }) : pane.locator(`ul.choices button[data-choice="${id}"]`);
  await button.click();
  await expect(status).not.toHaveText(before ?? '', { timeout: 20_000 });
}

async function offered(pane: Locator): Promise<number[]> {
  return (await pane.locator('ul.choices button').evaluateAll((bs) => bs.map((b) => Number(b.getAttribute('data-choice')))));
}

/** Whether a step of the run so far matches (CPU, operation). */
async function stepSeen(pane: Locator, cpu: number, op: string): Promise<boolean> {
  return (await pane.locator(`ol.steps li[data-cpu="${cpu}"][data-op="${op}"]`).count()) > 0;
}

async function facts(page: Page): Promise<Locator> {
  const f = page.getByTestId('run-facts');
  await expect(f).toHaveAttribute('data-outcome', /.+/, { timeout: 30_000 });
  return f;
}

test('take the scheduler\'s place: a lost update by hand, shared as a link that replays in a fresh browser', async ({ page, browser }) => {
  await openApp(page, `?rig=${RIG}&scenario=${LOST_UPDATE}`);
  await page.getByRole('tab', { name: 'Run' }).click();
  const pane = page.getByTestId('scheduler');
  await pane.getByTestId('manual-start').click();
  await expect(pane.getByTestId('manual-status')).toContainText('Step 0');
  // Both CPUs' threads and the DPC's arrival, and nothing else.
  expect(await offered(pane)).toEqual([0, 1, 4]);
  await expect(pane.locator('ul.choices button[data-choice="4"]')).toContainText('timerDpc arrives');
  // CPU 0 reads the counter; CPU 1 reads and writes it; CPU 0 writes its stale value.
  for (let guard = 0; guard < 100 && !(await stepSeen(pane, 0, 'read')); guard++) await pick(pane, 0);
  for (let guard = 0; guard < 100 && !(await stepSeen(pane, 1, 'write')); guard++) await pick(pane, 1);
  for (let guard = 0; guard < 200 && (await pane.getByTestId('manual-outcome').count()) === 0; guard++) {
    await pick(pane, (await offered(pane)).includes(0) ? 0 : undefined);
  }
  await expect(pane.getByTestId('manual-outcome')).toContainText("invariant 'no lost update' broken");
  const link = await pane.getByTestId('manual-link').inputValue();
  expect(link).toMatch(/schedule=rb2\./);

  // Replayed here (and saved to the history) …
  await pane.getByTestId('manual-replay').click();
  const here = await facts(page);
  await expect(here).toHaveAttribute('data-invariant', 'no lost update');
  await expect(page.getByRole('heading', { name: /Replay of a hand-made schedule/ })).toBeVisible();
  await page.getByRole('tab', { name: 'History' }).click();
  await expect(page.getByText(LOST_UPDATE).first()).toBeVisible();

  // … and in a fresh browser context, from the link alone.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto(link);
  const there = await facts(other);
  await expect(there).toHaveAttribute('data-invariant', 'no lost update');
  expect(link).toContain(encodeURIComponent(await there.getAttribute('data-schedule') ?? '').replace(/%2E/g, '.'));
  await fresh.close();
});

test('search from a chosen step of the run on screen keeps what came before it', async ({ page }) => {
  await openApp(page, `?rig=${RIG}&scenario=${LOST_UPDATE}&seed=1&strategy=pct&run=1`);
  await facts(page);
  const pane = page.getByTestId('scheduler');
  await pane.getByLabel('Step of the run on screen').fill('2');
  await pane.getByLabel('Step of the run on screen').dispatchEvent('change');
  await pane.getByTestId('manual-from').click();
  await expect(pane.getByTestId('manual-status')).toContainText(/Step \d+: pick/);
  // Hand CPU 1 the next step, then let the search take over from there.
  const choices = await offered(pane);
  await pick(pane, choices.includes(1) ? 1 : choices[choices.length - 1]);
  const status = await pane.getByTestId('manual-status').textContent();
  const step = Number(/Step (\d+)/.exec(status ?? '')![1]);
  await pane.getByTestId('manual-search').click();
  await expect(page.getByRole('heading', { name: `Search from step ${step}` })).toBeVisible({ timeout: 30_000 });
  const f = await facts(page);
  await expect(f).toHaveAttribute('data-outcome', 'invariant');
  await expect(f).toHaveAttribute('data-invariant', 'no lost update');
  await expect(page.getByText('Replaying the failing schedule to record its timeline')).toHaveCount(0, { timeout: 30_000 });

  // The search's run and the first one, compared as interleavings: where they part, side by side.
  await page.getByRole('tab', { name: 'History' }).click();
  const rows = page.locator('rb-history-view tbody tr');
  await expect(rows).toHaveCount(2);
  await rows.nth(0).getByRole('checkbox').check();
  await rows.nth(1).getByRole('checkbox').check();
  await page.getByRole('button', { name: /Compare selected/ }).click();
  const div = page.getByTestId('divergence');
  await expect(div).toContainText(/Both runs do the same up to step \d+/);
  const at = Number(await div.getAttribute('data-step'));
  expect(at).toBeLessThanOrEqual(step);
  await expect(div.locator('tr.at td.differs')).toHaveCount(2);
  await expect(div.locator('ul.percpu li')).toHaveCount(2);
});

test('a failure is shown with its smallest schedule, and how many preemptions it needs', async ({ page }) => {
  await openApp(page, `?rig=${RIG}&scenario=rundown/naive-flag-refcount&seed=1&strategy=portfolio&run=1`);
  const f = await facts(page);
  await expect(f).not.toHaveAttribute('data-outcome', 'pass');
  const info = page.getByTestId('shrink-info');
  await expect(info).toContainText(/Smallest schedule: \d+ preemptions?/);
  const shrunk = Number(await info.getAttribute('data-preemptions'));
  const original = Number(await info.getAttribute('data-original-preemptions'));
  expect(shrunk).toBeLessThanOrEqual(original);
  // The replay that draws the timeline is the shown (shrunk) schedule's: it replays to the same failure.
  const schedule = await f.getAttribute('data-schedule');
  await page.getByRole('button', { name: 'Replay', exact: true }).click();
  await expect(page.getByRole('heading', { name: /Replay/ }).first()).toBeVisible();
  const again = await facts(page);
  await expect(again).toHaveAttribute('data-schedule', schedule ?? '');
});
