import { expect, test } from '@playwright/test';
import { openApp } from './helpers.ts';

// Free-run in the app, in Chromium: one module worker per logical CPU over a SharedArrayBuffer (the
// preview server sends COOP/COEP, so the page is cross-origin isolated), and the controlled engine on
// a pool of workers. Links carry &engine=free; &schedules= is then free-run's iteration budget (the
// app also stops a free-run after 30 s). Detections stop at the first failure, usually within seconds.

test.describe.configure({ timeout: 90_000 });

const free = (scenario: string, iterations: number): string =>
  `?rig=dual-opteron-240&scenario=${scenario}&engine=free&schedules=${iterations}&run=1`;

test('free-run reports the lost update of irql-as-lock on two CPUs', async ({ page }) => {
  await openApp(page, free('spinlock/irql-as-lock', 10_000_000));
  await expect(page.getByTestId('outcome')).toHaveText('invariant “no lost update”', { timeout: 45_000 });
  await expect(page.getByTestId('failure-report')).toContainText('an increment was lost');
  const report = page.getByTestId('free-run');
  await expect(report).toContainText('Free-run on 2 workers');
  await expect(report).toContainText('stopped by failure');
  await expect(report).toContainText('A free-run failure cannot be replayed');
  // Not reproducible: no schedule string and no Replay button.
  await expect(page.locator('rb-run-result .schedule')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Replay', exact: true })).toHaveCount(0);
});

test('free-run of ke-spinlock runs clean on both CPU workers', async ({ page }) => {
  await openApp(page, free('spinlock/ke-spinlock', 300));
  await expect(page.getByTestId('outcome')).toHaveText('pass', { timeout: 45_000 });
  const report = page.getByTestId('free-run');
  await expect(report).toContainText('Free-run on 2 workers');
  await expect(report).toContainText('300 iterations');
  await expect(report).toContainText('stopped by iterations');
  await expect(report).not.toContainText('A free-run failure cannot be replayed');
});

test('the controlled engine finds the lost update on a pool of workers in the page', async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=spinlock/irql-as-lock&engine=controlled&strategy=random&seed=1');
  await expect(page.getByRole('radio', { name: /Controlled/ })).toBeChecked();
  await page.getByLabel('Workers', { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('outcome')).toHaveText('invariant “no lost update”', { timeout: 45_000 });
  // The pool reports the lowest failing schedule index over all its workers: the same as one worker's.
  await expect(page.locator('rb-run-result')).toContainText('failed on schedule 3 of');
  await expect(page.getByTestId('progress').locator('dt', { hasText: 'workers' }).locator('xpath=following-sibling::dd')).toHaveText('2');
  await expect(page.locator('rb-run-result .schedule')).toContainText(/schedule rb2\./);
});

test('free-run reproduces the cancel race across two CPU workers (the cancel routine one CPU set, called on the other)', async ({ page }) => {
  await openApp(page, free('cancel/no-exchange-check', 10_000_000));
  const bsod = page.getByTestId('bugcheck');
  await expect(bsod).toBeVisible({ timeout: 45_000 });
  // Both completions of one IRP: the second IoCompleteRequest (0x44), or — when the dispatch routine completes
  // between IoCancelIrp's exchange of the cancel routine and its CurrentLocation check — 0x48, as in Windows.
  await expect(bsod).toContainText(/MULTIPLE_IRP_COMPLETE_REQUESTS|CANCEL_STATE_IN_COMPLETED_IRP/);
  await expect(page.getByTestId('outcome')).toHaveText(/\((0x44|0x48)\)/);
  await expect(page.getByTestId('free-run')).toContainText('A free-run failure cannot be replayed');
});

test('free-run hands a dispatcher event between threads on two CPU workers, with nothing to distrust', async ({ page }) => {
  await openApp(page, free('dispatcher/sync-event-handoff', 300));
  await expect(page.getByTestId('outcome')).toHaveText('pass', { timeout: 45_000 });
  const report = page.getByTestId('free-run');
  await expect(report).toContainText('stopped by iterations');
  // The app shows free-run's warnings (kernel state it does not share between CPU workers): none here.
  await expect(report.getByRole('note')).toHaveCount(0);
  await expect(report).not.toContainText('artifact');
});
