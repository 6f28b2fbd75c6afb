/**
 * At 390 px wide (a phone held upright) no view scrolls sideways: forms collapse to one column, titles wrap,
 * wide tables scroll inside their own box. The run view is checked with a blue screen open.
 */
import { expect, test, type Page } from '@playwright/test';
import { BUGCHECK, openApp } from './helpers.ts';

test.use({ viewport: { width: 390, height: 844 } });

async function sideways(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

test('no view scrolls sideways at 390 px', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page, '?rig=dual-opteron-240&scenario=cancel/no-exchange-check&seed=1&strategy=pct&run=1');
  await expect(page.getByTestId('bugcheck')).toContainText(BUGCHECK, { timeout: 60_000 });
  const over: string[] = [];
  const check = async (view: string): Promise<void> => {
    const px = await sideways(page);
    if (px > 0) over.push(`${view}: ${px} px wider than the window`);
  };
  await check('Run (blue screen)');
  for (const tab of ['The box', 'Scenarios', 'Editor', 'History']) {
    await page.getByRole('tab', { name: tab }).click();
    await page.waitForTimeout(500);
    await check(tab);
  }
  expect(over, over.join('\n')).toEqual([]);
});
