/**
 * Runs one controlled exploration in the app, through the URL contract (src/ui/lib/url.ts), in
 * the page's own workers, and reads its result from the hidden facts the result view renders
 * (rb-run-result, data-testid="run-facts").
 */
import { test as base, type Page } from '@playwright/test';
import type { ObservedOutcome, OutcomeKind } from '../../src/scenario/outcome.ts';

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

export async function runInPage(page: Page, r: PageRun, timeoutMs: number): Promise<PageFacts> {
  await page.goto(runLink(r));
  const facts = page.locator('[data-testid="run-facts"]');
  const problem = page.locator('.banner.error[role="alert"]');
  await facts.or(problem).first().waitFor({ state: 'attached', timeout: timeoutMs });
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
