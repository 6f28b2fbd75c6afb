import { expect, test } from '@playwright/test';

test('app shell loads and the page is cross-origin isolated', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Racebox' })).toBeVisible();
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
  await expect(page.getByTestId('isolation')).toContainText('yes');
});
