import { expect, test } from '@playwright/test';
import { openApp } from './helpers.ts';

test.describe.configure({ timeout: 300_000 });

test('Suggest fences on publish-without-barrier (arm64-quad) suggests WriteRelease on the publishing line', async ({ page }) => {
  await openApp(page, '?rig=arm64-quad&scenario=memory/publish-without-barrier&seed=1&run=1');
  await expect(page.getByTestId('failure-report')).toContainText('worker sees the context filled in', { timeout: 60_000 });
  const panel = page.getByTestId('fence-suggestions');
  await expect(panel).toBeVisible({ timeout: 30_000 });
  await panel.getByTestId('suggest-fences').click();
  const s = panel.getByTestId('fence-suggestion');
  await expect(s.first()).toBeVisible({ timeout: 240_000 });
  await panel.scrollIntoViewIfNeeded();
  await expect(s.first()).toContainText(/WriteNoFence\(s\.published, ctx\).*→ WriteRelease/);
});
