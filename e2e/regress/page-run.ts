/**
 * Runs one controlled exploration in the app, through the URL contract (src/ui/lib/url.ts), in
 * the page's own workers, and reads its result from the hidden facts the result view renders
 * (rb-run-result, data-testid="run-facts").
 */
import { expect, test as base, type Page } from '@playwright/test';
import type { Rig } from '../../src/machine/rig.ts';
import type { ObservedOutcome, OutcomeKind } from '../../src/scenario/outcome.ts';
import type { UserScenarioDoc } from './row.ts';

export interface PageRun {
  scenario: string;
  rig: string;
  strategy: string;
  seed: number;
  schedules: number;
}

export interface PageFacts extends ObservedOutcome {
  schedule?: string;
  elapsedMs: number;
}

export function runLink(r: PageRun): string {
  const q = new URLSearchParams({ rig: r.rig, scenario: r.scenario, seed: String(r.seed), strategy: r.strategy, schedules: String(r.schedules), run: '1' });
  return `/?${q}`;
}

/** A link that replays one schedule exactly (the app's replayLink shape). */
export function replayUrl(base: string, rig: string, scenario: string, schedule: string): string {
  const u = new URL(base);
  u.search = new URLSearchParams({ rig, scenario, schedule }).toString();
  return u.toString();
}

/** Marks what the page showed before a link was opened in it, so that only what the link brings counts. */
const SEEN = 'data-regress-seen';

/**
 * Opens a link in the page. The first time, and after anything but the app, by loading it; then
 * in the page (history.pushState and popstate, which the app opens as a fresh load would, its
 * confirmation included): the app, its workers and their compiled code stay up from row to row,
 * which is most of a short row's cost. What the page showed before is marked seen first: the
 * result view and the banners of the link before.
 */
async function openLink(page: Page, link: string): Promise<void> {
  const inApp = (await page.locator('racebox-app').count()) > 0 && (await page.getByRole('tab', { name: 'Run' }).count()) > 0;
  if (!inApp) {
    await page.goto(link);
    return;
  }
  await page.locator('[data-testid="run-facts"], .banner[role="alert"]').evaluateAll((els, seen) => els.forEach((e) => e.setAttribute(seen, '')), SEEN);
  await page.evaluate((url) => {
    history.pushState(null, '', url);
    dispatchEvent(new PopStateEvent('popstate'));
  }, link);
}

/** The name of the history file a team's scenarios arrive in: the confirmation shows it as where the code came from. */
export const IMPORT_FILE = 'racebox-regress.json';

/** A history file (src/history/transfer.ts) that holds a team's scenario and rig, and no runs. */
export function historyFile(items: { scenario?: UserScenarioDoc; rig?: Rig }): Buffer {
  const doc = {
    format: 'racebox-history',
    version: 1,
    exportedAt: new Date().toISOString(),
    runs: [],
    userRigs: items.rig ? [items.rig] : [],
    userScenarios: items.scenario ? [{ id: items.scenario.id, title: items.scenario.title, source: items.scenario.source, updatedAt: Date.now() }] : [],
  };
  return Buffer.from(JSON.stringify(doc, null, 1));
}

/** What each page has been given already (its context's IndexedDB keeps it from row to row). */
const delivered = new WeakMap<Page, Set<string>>();

/**
 * Puts a team's scenario, and the rig file the row runs on, into the page the way a colleague's
 * scenario arrives: a history file imported on the History tab (validated, never executed; the
 * app marks the scenario imported). Once per page and item.
 */
export async function deliverToPage(page: Page, items: { scenario?: UserScenarioDoc; rig?: Rig }, timeoutMs: number): Promise<void> {
  const done = delivered.get(page) ?? new Set<string>();
  delivered.set(page, done);
  const scenario = items.scenario && !done.has(`scenario:${items.scenario.id}`) ? items.scenario : undefined;
  const rig = items.rig && !done.has(`rig:${items.rig.id}`) ? items.rig : undefined;
  if (!scenario && !rig) return;
  await page.goto('/');
  await page.getByRole('tab', { name: 'History' }).click();
  // The import is refused silently until the history database is open: wait for its list.
  await expect(page.getByRole('button', { name: 'Export JSON' })).toBeEnabled({ timeout: timeoutMs });
  await page.locator('#import-file').setInputFiles({ name: IMPORT_FILE, mimeType: 'application/json', buffer: historyFile({ ...(scenario ? { scenario } : {}), ...(rig ? { rig } : {}) }) });
  // The import runs in a worker and reports its phases ("Importing …: checking every record…") before the
  // result ("racebox-regress.json: Imported …"): wait for the result, not the first notice.
  const status = page.getByRole('status').filter({ hasText: `${IMPORT_FILE}: ` }).filter({ hasNotText: /^\s*Importing / });
  const refused = page.getByRole('alert').filter({ hasText: IMPORT_FILE });
  await status.or(refused).first().waitFor({ timeout: timeoutMs });
  if ((await refused.count()) > 0) throw new Error(`the app refused the history file with ${scenario ? `scenario ${scenario.id}` : ''}${scenario && rig ? ' and ' : ''}${rig ? `rig ${rig.id}` : ''}: ${await refused.first().textContent()}`);
  // Added, not skipped or renamed to <id>-imported because another scenario had the id already.
  const said = (await status.textContent()) ?? '';
  const want = [rig ? '1 rig' : '', scenario ? '1 scenario' : ''].filter(Boolean);
  for (const w of want) {
    if (!said.includes(w)) throw new Error(`importing ${IMPORT_FILE} did not add ${w} (${said.trim()}): an item with the same id but other content is stored already`);
  }
  if (scenario) done.add(`scenario:${scenario.id}`);
  if (rig) done.add(`rig:${rig.id}`);
}

/**
 * Runs one exploration through the URL contract. A team's scenario is not library code: the app
 * asks before a link runs it, and `confirm` answers that dialog on the user's behalf after
 * checking that it names the scenario and where its code came from. Without `confirm` a dialog
 * fails the run.
 */
export async function runInPage(page: Page, r: PageRun, timeoutMs: number, confirm?: { title: string }): Promise<PageFacts> {
  const fresh = (sel: string): string => `${sel}:not([${SEEN}])`;
  const facts = page.locator(fresh('[data-testid="run-facts"]'));
  const problem = page.locator(fresh('.banner.error[role="alert"]'));
  await openLink(page, runLink(r));
  const dialog = page.getByRole('dialog', { name: "Run this scenario's code?" });
  await facts.or(problem).or(dialog).first().waitFor({ state: 'attached', timeout: timeoutMs });
  if (await dialog.isVisible()) {
    if (!confirm) throw new Error(`the app asks before it runs ${r.scenario}, which the row took for a library scenario`);
    const shown = { id: await dialog.locator('.id').textContent(), title: await dialog.locator('.title').textContent(), origin: (await dialog.locator('.origin').textContent()) ?? '' };
    if (shown.id !== r.scenario || shown.title !== confirm.title || !shown.origin.startsWith(`imported from ${IMPORT_FILE}`)) {
      throw new Error(`the confirmation names ${JSON.stringify(shown)}, not ${r.scenario} (${confirm.title}) imported from ${IMPORT_FILE}`);
    }
    await dialog.getByRole('button', { name: 'Run it' }).click();
    await facts.or(problem).first().waitFor({ state: 'attached', timeout: timeoutMs });
  } else if (confirm) {
    throw new Error(`the app ran ${r.scenario}, a scenario from outside the library, without asking first`);
  }
  if ((await facts.count()) === 0) {
    throw new Error(`the app did not run ${r.scenario} on ${r.rig}: ${(await problem.allTextContents()).join(' | ')}`);
  }
  const a = async (name: string): Promise<string> => (await facts.getAttribute(`data-${name}`)) ?? '';
  if ((await a('scenario')) !== r.scenario || (await a('rig')) !== r.rig || (await a('seed')) !== String(r.seed)) {
    throw new Error(`the page shows a run of ${await a('scenario')} on ${await a('rig')} seed ${await a('seed')}, not the one the link asked for`);
  }
  const outcome = (await a('outcome')) as OutcomeKind;
  const kind = (await a('failure-kind')) as Exclude<OutcomeKind, 'pass'> | '';
  const bugcheck = await a('bugcheck');
  const invariant = await a('invariant');
  // A named liveness failure (a hang or deadlock the scenario names): the row's expectation may ask for it by name.
  const liveness = await a('liveness');
  const schedule = await a('schedule');
  const param1 = await a('bugcheck-param1');
  return {
    outcome,
    schedulesRun: Number(await a('schedules-run')),
    elapsedMs: Number(await a('elapsed-ms')),
    ...(kind
      ? {
          failure: {
            kind,
            ...(bugcheck ? { bugcheck: { name: bugcheck, code: Number(await a('bugcheck-code')), params: param1 ? [Number(param1)] : [], meaning: '' } } : {}),
            ...(invariant ? { invariant } : {}),
            ...(liveness ? { liveness: { name: liveness } } : {}),
          },
        }
      : {}),
    ...(schedule ? { schedule } : {}),
  };
}

/**
 * One page per Playwright worker, reused row after row: each row still loads the app afresh
 * (page.goto), but the browser context, its caches and compiled code stay, which is most of a
 * row's cost when the run itself takes a few schedules.
 */
export const test = base.extend<Record<never, never>, { rowPage: Page }>({
  rowPage: [
    async ({ browser }, use, workerInfo) => {
      const context = await browser.newContext({ baseURL: workerInfo.project.use.baseURL });
      const page = await context.newPage();
      await use(page);
      await context.close();
    },
    { scope: 'worker' },
  ],
});
