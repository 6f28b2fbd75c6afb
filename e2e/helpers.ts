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

/**
 * Main-thread tasks of the page's renderers while `during` runs, from Chromium's own trace: each task's
 * wall time and its thread (CPU) time, in ms. A long task seen by PerformanceObserver is wall time, which
 * a busy host stretches (two cores shared with the run's workers and whatever else runs); the CPU time
 * is the work the page itself did, which is what "never blocks the page" is about.
 */
export async function mainThreadTasks(page: Page, during: () => Promise<void>): Promise<{ wall: number; cpu: number }[]> {
  const browser = page.context().browser();
  if (!browser) throw new Error('mainThreadTasks needs a browser (not a persistent context)');
  await browser.startTracing(page, { categories: ['disabled-by-default-devtools.timeline', 'toplevel', '__metadata'] });
  let buffer: Buffer;
  try {
    await during();
  } finally {
    // stopTracing must run even when `during` fails, or the next test cannot trace.
    buffer = await browser.stopTracing();
  }
  interface TraceEvent { name: string; ph: string; pid: number; tid: number; dur?: number; tdur?: number; args?: { name?: string } }
  const events = (JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  return events
    .filter((e) => e.ph === 'X' && e.name === 'RunTask' && main.has(`${e.pid}:${e.tid}`) && e.dur !== undefined)
    .map((e) => ({ wall: Math.round(e.dur! / 1000), cpu: Math.round((e.tdur ?? e.dur!) / 1000) }));
}
