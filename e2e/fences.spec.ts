import { expect, test } from '@playwright/test';
import { openApp, pickRig } from './helpers.ts';

test.describe.configure({ timeout: 240_000 });

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
  await expect(result).toContainText(/No suggestion: (the failing run makes no ReadNoFence|no set of at most 2 changes)/, { timeout: 200_000 });
  await expect(panel).toContainText(/\d+ change sets tried, [\d,]+ schedules/);
  await expect(panel.getByTestId('fence-suggestion')).toHaveCount(0);
  // The button is back for another search.
  await expect(panel.getByTestId('suggest-fences')).toBeEnabled();
});

// A user's scenario (the editor's starter, a lost update through ReadNoFence/WriteNoFence) runs in the sandbox:
// the search does too, and answers the same way.
test('Suggest fences on a user scenario searches in the sandbox', async ({ page }) => {
  await openApp(page);
  await pickRig(page, 'dual-opteron-240');
  await page.getByRole('tab', { name: 'Editor' }).click();
  await expect(page.getByTestId('diagnostics')).toContainText('No problems', { timeout: 20_000 });
  await page.getByRole('button', { name: 'Run scenario' }).click();
  await expect(page.getByTestId('failure-report')).toContainText('counter is 1, expected 2', { timeout: 30_000 });
  const panel = page.getByTestId('fence-suggestions');
  await expect(panel).toBeVisible({ timeout: 20_000 });
  await panel.getByTestId('suggest-fences').click();
  await expect(panel.getByTestId('fences-result')).toContainText(/No suggestion: (the failing run makes no ReadNoFence|no set of at most 2 changes)/, { timeout: 200_000 });
  await expect(panel.getByRole('alert')).toHaveCount(0);
});
