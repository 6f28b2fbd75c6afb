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

for (const scheme of ['light', 'dark'] as const) {
  test(`no serious or critical axe violation on any view (${scheme})`, async ({ page }) => {
    test.setTimeout(120_000);
    await page.emulateMedia({ colorScheme: scheme });
    await openApp(page, '?rig=dual-opteron-240&scenario=cancel/no-exchange-check&seed=1&strategy=pct&run=1');
    await expect(page.getByTestId('bugcheck')).toContainText(BUGCHECK, { timeout: 60_000 });
    const found: string[] = [...(await serious(page, 'Run (blue screen)'))];
    for (const [tab, ready] of [
      ['The box', 'Start from'],
      ['Scenarios', undefined],
      ['Editor', undefined],
      ['History', undefined],
    ] as const) {
      await page.getByRole('tab', { name: tab }).click();
      if (ready) await expect(page.getByLabel(ready)).toBeVisible();
      await page.waitForTimeout(300);
      found.push(...(await serious(page, tab)));
    }
    expect(found, found.join('\n')).toEqual([]);
  });
}

test('a skip link takes keyboard users past the header to the view', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to the view' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main, [role="main"]').first()).toBeFocused();
});
