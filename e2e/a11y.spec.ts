/**
 * axe-core (through @axe-core/playwright) on every view, in the light and the dark theme: no serious or
 * critical violation. The run view is checked with a blue screen and its timeline open, the state with the
 * most on screen. WCAG 2 A and AA rules.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { BUGCHECK, openApp } from './helpers.ts';

async function serious(page: Page, view: string): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${view}: ${v.id} (${v.impact}) — ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

const VIEWS: readonly { tab: string; ready?: string }[] = [
  { tab: 'The box', ready: 'Start from' },
  { tab: 'Scenarios' },
  { tab: 'Editor' },
  { tab: 'History' },
];

for (const scheme of ['light', 'dark'] as const) {
  test(`axe: the run view with a blue screen and its timeline (${scheme})`, async ({ page }) => {
    test.setTimeout(180_000);
    await page.emulateMedia({ colorScheme: scheme });
    await openApp(page, '?rig=dual-opteron-240&scenario=cancel/no-exchange-check&seed=1&strategy=pct&run=1');
    await expect(page.getByTestId('bugcheck')).toContainText(BUGCHECK, { timeout: 60_000 });
    const found = await serious(page, 'Run (blue screen)');
    expect(found, found.join('\n')).toEqual([]);
  });

  test(`axe: the other views (${scheme})`, async ({ page }) => {
    test.setTimeout(180_000);
    await page.emulateMedia({ colorScheme: scheme });
    await openApp(page);
    const found: string[] = [];
    for (const v of VIEWS) {
      await page.getByRole('tab', { name: v.tab }).click();
      if (v.ready) await expect(page.getByLabel(v.ready)).toBeVisible();
      found.push(...(await serious(page, v.tab)));
    }
    expect(found, found.join('\n')).toEqual([]);
  });
}

test('a skip link takes keyboard users past the header to the view', async ({ page }) => {
  test.setTimeout(90_000);
  await openApp(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to the view' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main, [role="main"]').first()).toBeFocused();
});
