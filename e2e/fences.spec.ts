import { expect, test } from '@playwright/test';
import { openApp } from './helpers.ts';

test.describe.configure({ timeout: 120_000 });

/*
 * irql-as-lock loses an update through k.ReadNoFence/k.WriteNoFence: a failure with ordering-API
 * accesses that no ordering change fixes (it is an interleaving bug), so the search must say so
 * rather than suggest a fence that does not help.
 */
test('Suggest fences runs the search in a worker and says when no ordering change fixes the failure', async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=spinlock/irql-as-lock&seed=1&run=1');
  await expect(page.getByTestId('failure-report')).toContainText('no lost update', { timeout: 30_000 });
  const panel = page.getByTestId('fence-suggestions');
  await expect(panel).toBeVisible({ timeout: 20_000 });
  await panel.getByTestId('suggest-fences').click();
  await expect(panel.getByRole('status')).toContainText(/Searching/);
  const result = panel.getByTestId('fences-result');
  await expect(result).toContainText(/No suggestion: (the failing run makes no ReadNoFence|no set of at most 2 changes)/, { timeout: 90_000 });
  await expect(panel).toContainText(/\d+ change sets tried, [\d,]+ schedules/);
  await expect(panel.getByTestId('fence-suggestion')).toHaveCount(0);
  // The button is back for another search.
  await expect(panel.getByTestId('suggest-fences')).toBeEnabled();
});
