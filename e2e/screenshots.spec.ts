/**
 * Screenshots of the main views, taken the way a user gets there. They land in
 * the test's output folder; with RACEBOX_SCREENSHOTS=1 they are written to
 * docs/screenshots/ (the images the README shows).
 */
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { BUGCHECK, SCENARIO, openApp, pickRig } from './helpers.ts';

test.describe.configure({ timeout: 120_000 });
test.use({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });

async function shot(page: Page, info: TestInfo, name: string, opts: { fullPage?: boolean; clip?: { x: number; y: number; width: number; height: number } } = {}): Promise<void> {
  const path = process.env.RACEBOX_SCREENSHOTS ? `docs/screenshots/${name}.png` : info.outputPath(`${name}.png`);
  await page.screenshot({ path, animations: 'disabled', ...opts });
}

test('screenshots of the main views', async ({ page }, info) => {
  await openApp(page);
  await pickRig(page, 'dual-opteron-240');
  await shot(page, info, 'configure');

  await page.getByRole('tab', { name: 'Scenarios' }).click();
  await page.getByRole('navigation', { name: 'Scenario library' }).getByRole('button', { name: /Cancelled IRP completed without checking/ }).click();
  await expect(page.locator('rb-code-view')).toBeVisible();
  await shot(page, info, 'scenarios');

  // Running: a correct scenario with a large budget, caught mid-run.
  await page.goto('/?rig=quad-free&scenario=spinlock/ke-spinlock&seed=7&strategy=pct&schedules=400000&run=1');
  await expect(page.getByTestId('progress')).toContainText('left at most', { timeout: 30_000 });
  await page.waitForTimeout(1500);
  await shot(page, info, 'running');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled();

  // The blue screen and the timeline of the cancel race.
  await page.goto(`/?rig=dual-opteron-240&scenario=${SCENARIO}&seed=1&strategy=pct&run=1`);
  const bsod = page.getByTestId('bugcheck');
  await expect(bsod).toContainText(BUGCHECK, { timeout: 30_000 });
  await expect(page.getByTestId('timeline-position')).toBeVisible({ timeout: 20_000 });
  const resultTop = await page.locator('rb-run-result').evaluate((e) => e.getBoundingClientRect().top + window.scrollY);
  await page.evaluate((y) => window.scrollTo(0, y - 72), resultTop);
  await shot(page, info, 'bluescreen');
  const tl = page.locator('rb-run-result').locator('section', { has: page.getByRole('heading', { name: 'Timeline' }) });
  await tl.scrollIntoViewIfNeeded();
  await page.getByRole('button', { name: 'Previous step' }).click();
  for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Previous step' }).click();
  await tl.screenshot({ path: process.env.RACEBOX_SCREENSHOTS ? 'docs/screenshots/timeline.png' : info.outputPath('timeline.png') });

  // History with a few runs, two of them compared.
  await page.goto(`/?rig=dual-opteron-240&scenario=spinlock/abba&seed=1&strategy=pct&run=1`);
  await expect(page.getByTestId('outcome')).toBeVisible({ timeout: 30_000 });
  await page.goto(`/?rig=uniprocessor&scenario=${SCENARIO}&seed=1&strategy=pct&schedules=500&run=1`);
  await expect(page.getByTestId('outcome')).toBeVisible({ timeout: 30_000 });
  await page.getByRole('tab', { name: 'History' }).click();
  const rows = page.locator('rb-history-view tbody tr');
  await expect(rows).toHaveCount(4);
  await rows.nth(0).getByRole('checkbox').check();
  await rows.nth(1).getByRole('checkbox').check();
  await page.getByRole('button', { name: /Compare selected/ }).click();
  await expect(page.getByTestId('compare')).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, info, 'history');

  // The editor (loaded on demand) with a problem pointed at its line.
  await page.getByRole('tab', { name: 'Editor' }).click();
  const editor = page.getByRole('textbox', { name: 'Scenario source (TypeScript)' });
  await expect(page.getByTestId('diagnostics')).toContainText('No problems', { timeout: 20_000 });
  await editor.locator('.cm-line').filter({ hasText: 'k.WriteNoFence(s.counter, v + 1)' }).first().click();
  await page.keyboard.press('End');
  await page.keyboard.type(' k.');
  await expect(page.locator('.cm-tooltip-autocomplete')).toBeVisible();
  await page.keyboard.type('KeAcq');
  await page.waitForTimeout(300);
  await shot(page, info, 'editor');

  // A narrow window.
  await page.keyboard.press('Escape');
  await page.setViewportSize({ width: 420, height: 860 });
  await page.getByRole('tab', { name: 'Run' }).click();
  await page.goto(`/?rig=dual-opteron-240&scenario=${SCENARIO}&seed=1&strategy=pct&run=1`);
  await expect(page.getByTestId('bugcheck')).toContainText(BUGCHECK, { timeout: 30_000 });
  await page.getByTestId('bugcheck').scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollBy(0, -60));
  await shot(page, info, 'narrow');
});
