import { expect, test } from '@playwright/test';
import { openApp } from './helpers.ts';

test.describe.configure({ timeout: 90_000 });

test('a lost update explained: both CPUs highlighted in the source, and the values each read', async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=spinlock/irql-as-lock&seed=1&run=1');
  await expect(page.getByTestId('failure-report')).toContainText('no lost update', { timeout: 30_000 });
  const pos = page.getByTestId('timeline-position');
  await expect(pos).toHaveText(/Step (\d+) of \1/, { timeout: 20_000 });

  // At the failing step, each CPU's column shows the scenario with its own current line highlighted.
  const pane = page.getByTestId('source-pane');
  await expect(pane).toBeVisible();
  const reads: string[] = [];
  for (const cpu of [0, 1]) {
    const col = pane.getByTestId(`source-cpu-${cpu}`);
    const current = col.locator('rb-code-view .line.current');
    await expect(current).toHaveCount(1);
    await expect(current).toContainText(`CPU ${cpu}`);
    await expect(current).toContainText(/k\.(ReadNoFence|WriteNoFence|KeLowerIrql|KeRaiseIrql)/);
    // The whole call stack: the actor's run, the helper, then the kernel routine.
    await expect(col.getByRole('list', { name: `Call stack of CPU ${cpu}, outermost first` })).toContainText('run');
    // And the values this CPU read from the counter.
    const values = col.getByTestId('cpu-values');
    await expect(values).toContainText(/read \d+ from s\.counter/);
    reads.push((await values.textContent())!.match(/read (\d+) from s\.counter/)![1]!);
  }
  // The counter's history says how the update was lost: two CPUs read the same value.
  const story = (await page.getByTestId('access-story').textContent())!;
  expect(story).toContain('s.counter');
  const seen = [...story.matchAll(/CPU (\d) read (\d+)/g)].map((m) => ({ cpu: m[1], value: m[2] }));
  expect(seen.some((a) => seen.some((b) => a.cpu !== b.cpu && a.value === b.value))).toBe(true);
  expect(reads).toHaveLength(2);

  // Stepping moves every column together.
  const cpu0 = pane.getByTestId('source-cpu-0').locator('rb-code-view .line.current');
  await page.getByRole('img', { name: /Timeline of \d+ steps/ }).focus();
  await page.keyboard.press('Home');
  await expect(pos).toHaveText(/^Step 1 of/);
  await expect(pane.getByRole('heading', { name: 'Source at step 1' })).toBeVisible();
  await page.keyboard.press('End');
  await expect(cpu0).toHaveCount(1);

  // The kernel routine each CPU is in, on request.
  await pane.getByLabel('Show the kernel routine each CPU is in').check();
  await expect(pane.getByRole('region', { name: /^Kernel routine \w+ on CPU 0$/ })).toBeVisible();

  // The inspector and the tooltips give values too.
  await expect(page.getByTestId('step-inspector')).toContainText(/(read|wrote|old|changes IRQL|starts)/);
  // The trace, values and stacks included, was kept in the history.
  await expect(page.getByText(/Could not save/)).toHaveCount(0);
});

test("the blue screen labels its arguments and its 'go to' link leads to the first completion", async ({ page }) => {
  await openApp(page, '?rig=dual-opteron-240&scenario=cancel/no-exchange-check&seed=1&run=1');
  const bsod = page.getByTestId('bugcheck');
  await expect(bsod).toContainText('MULTIPLE_IRP_COMPLETE_REQUESTS', { timeout: 30_000 });
  const args = bsod.getByTestId('bugcheck-args');
  await expect(args).toContainText('Arg1:');
  await expect(args).toContainText('Address of the IRP');
  await expect(args).toContainText('Arg4:');

  const link = bsod.getByTestId('cause-link');
  await expect(link).toContainText('the first completion of this IRP', { timeout: 20_000 });
  const target = Number((await link.textContent())!.match(/go to step (\d+)/)![1]);
  // Keyboard: the link is reachable and follows with Enter.
  await link.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('timeline-position')).toHaveText(new RegExp(`^Step ${target} of \\d+$`));
  const inspector = page.getByTestId('step-inspector');
  await expect(inspector).toContainText(`At step ${target}`);
  await expect(inspector).toContainText('IoCompleteRequest');
  // Focus is on the timeline, so the arrow keys step on from the cause.
  await expect(page.getByRole('img', { name: /Timeline of \d+ steps/ })).toBeFocused();
  // The source pane shows the completing CPU on its IoCompleteRequest line.
  const active = page.getByTestId('source-pane').locator('article.active');
  await expect(active.locator('rb-code-view .line.current')).toContainText('IoCompleteRequest');
  await expect(active.getByRole('list', { name: /Call stack/ })).toContainText('IoCompleteRequest');
});

test("a deadlock's waits link to the acquisition of what they wait for", async ({ page }) => {
  await openApp(page, '?rig=quad-free&scenario=spinlock/abba&seed=1&run=1');
  const report = page.getByTestId('failure-report');
  await expect(report).toBeVisible({ timeout: 30_000 });
  const link = report.getByTestId('cause-link').first();
  await expect(link).toContainText(/go to step \d+, the acquisition by/, { timeout: 20_000 });
  const target = Number((await link.textContent())!.match(/go to step (\d+)/)![1]);
  await link.click();
  await expect(page.getByTestId('timeline-position')).toHaveText(new RegExp(`^Step ${target} of \\d+$`));
  await expect(page.getByTestId('step-inspector')).toContainText(/interlocked s\.\w+: old 0 → new /);
});
