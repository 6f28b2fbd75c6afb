import { expect, type Page } from '@playwright/test';

export const SCENARIO = 'cancel/no-exchange-check';
export const SCENARIO_TITLE = /Cancelled IRP completed without checking/;
export const BUGCHECK = 'MULTIPLE_IRP_COMPLETE_REQUESTS';

/** Opens the app and waits until the library and the workers are ready. */
export async function openApp(page: Page, query = ''): Promise<void> {
  await page.goto(`/${query}`);
  await expect(page.getByRole('heading', { name: 'Racebox' })).toBeVisible();
}

export async function pickRig(page: Page, id: string): Promise<void> {
  await page.getByRole('tab', { name: 'The box' }).click();
  await page.getByLabel('Start from').selectOption(`preset:${id}`);
  await expect(page.getByLabel('Rig id')).toHaveValue(id);
}

export async function pickScenario(page: Page, title: RegExp): Promise<void> {
  await page.getByRole('tab', { name: 'Scenarios' }).click();
  await page.getByRole('navigation', { name: 'Scenario library' }).getByRole('button', { name: title }).click();
  await expect(page.getByRole('heading', { level: 2, name: title })).toBeVisible();
  await page.getByRole('button', { name: 'Run this scenario' }).click();
  await expect(page.getByRole('tab', { name: 'Run' })).toHaveAttribute('aria-selected', 'true');
}

/** The schedule string shown with a failure. */
export async function shownSchedule(page: Page): Promise<string> {
  const text = await page.locator('rb-run-result .schedule').first().textContent();
  const m = /rb2\.[A-Za-z0-9_-]+/.exec(text ?? '');
  if (!m) throw new Error(`no schedule shown (got ${JSON.stringify(text)})`);
  return m[0];
}

/** Records long tasks (main-thread blocks over 50 ms) from now on. */
export async function watchLongTasks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __longTasks: number[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push(Math.round(e.duration));
    }).observe({ type: 'longtask', buffered: false });
  });
}

export async function longTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
}
