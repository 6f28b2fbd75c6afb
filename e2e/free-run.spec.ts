import { expect, test } from '@playwright/test';

// Free-run in Chromium: one module worker per logical CPU over a SharedArrayBuffer
// (the preview server sends COOP/COEP, so the page is cross-origin isolated).

test('free-run reports the lost update of irql-as-lock on two CPUs', async ({ page }) => {
  await page.goto('/lab.html?scenario=spinlock/irql-as-lock&rig=dual-opteron-240&engine=free&seconds=5&autorun=1');
  await expect(page.getByTestId('availability')).toContainText('Free-run available');
  await expect(page.getByTestId('outcome')).toHaveText('invariant: no lost update', { timeout: 20_000 });
  await expect(page.getByTestId('details')).toContainText('an increment was lost');
  await expect(page.getByTestId('details')).toContainText('cannot be replayed');
});

test('free-run of ke-spinlock runs clean', async ({ page }) => {
  await page.goto('/lab.html?scenario=spinlock/ke-spinlock&rig=dual-opteron-240&engine=free&seconds=2&autorun=1');
  await expect(page.getByTestId('outcome')).toHaveText('pass', { timeout: 20_000 });
  await expect(page.getByTestId('status')).toContainText('stopped by time');
  await expect(page.getByTestId('details')).toContainText('CPU 1:');
});

test('the controlled engine runs on a worker pool in the page', async ({ page }) => {
  await page.goto('/lab.html?scenario=spinlock/irql-as-lock&rig=dual-opteron-240&engine=controlled&workers=2&strategy=random&autorun=1');
  await expect(page.getByTestId('outcome')).toHaveText('invariant', { timeout: 20_000 });
  await expect(page.getByTestId('details')).toContainText('failing schedule index: 4');
});

test("free-run reproduces the cancel race across two CPU workers (the cancel routine one CPU set, called on the other)", async ({ page }) => {
  await page.goto('/lab.html?scenario=cancel/no-exchange-check&rig=dual-opteron-240&engine=free&seconds=20&autorun=1');
  await expect(page.getByTestId('outcome')).toHaveText('bugcheck', { timeout: 40_000 });
  // Both completions of one IRP: the second IoCompleteRequest (0x44), or — when the dispatch routine completes
  // between IoCancelIrp's exchange of the cancel routine and its CurrentLocation check — 0x48, as in Windows.
  await expect(page.getByTestId('details')).toContainText(/MULTIPLE_IRP_COMPLETE_REQUESTS|CANCEL_STATE_IN_COMPLETED_IRP/);
});

test('free-run hands a dispatcher event between threads on two CPU workers', async ({ page }) => {
  await page.goto('/lab.html?scenario=dispatcher/sync-event-handoff&rig=dual-opteron-240&engine=free&seconds=2&autorun=1');
  await expect(page.getByTestId('outcome')).toHaveText('pass', { timeout: 20_000 });
  await expect(page.getByTestId('status')).toContainText('stopped by time');
  await expect(page.getByTestId('details')).not.toContainText('artifact');
});
