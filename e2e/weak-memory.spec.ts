/**
 * Issue 17, "Seeing it": a failure that needs a memory reordering says which one. On the arm64-quad rig,
 * memory/publish-without-barrier (a pointer published with WriteNoFence before the fields it points to are
 * visible) fails; the failure panel lists the reorderings the run needed, the timeline draws the store that
 * sat in a store buffer (or marks the read that saw an older value), and the step inspector says it in
 * words. The view passes axe in both themes and does not scroll sideways at 390 px.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { openApp } from './helpers.ts';

const LINK = '?rig=arm64-quad&scenario=memory/publish-without-barrier&seed=1&schedules=10000&run=1';

async function serious(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}) — ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

test('a weak-memory failure shows its reordered store on the timeline and says which reordering it needed', async ({ page }) => {
  test.setTimeout(240_000);
  await openApp(page, LINK);
  const facts = page.getByTestId('run-facts');
  await expect(facts).toHaveAttribute('data-outcome', /^(invariant|bugcheck|error)$/, { timeout: 180_000 });
  await expect(facts).toHaveAttribute('data-rig', 'arm64-quad');

  // The failure panel (blue screen or invariant report) names the reorderings under the failure.
  const reorderings = page.getByTestId('reorderings');
  await expect(reorderings).toBeVisible();
  await expect(reorderings.getByRole('listitem').first()).toContainText(/CPU \d/);
  await expect(reorderings.getByRole('listitem').first()).toContainText(/visible/);

  // The timeline: its legend and list of reorderings, once the failing schedule's trace is recorded.
  const timeline = page.locator('rb-run-timeline');
  const list = timeline.getByTestId('weak-list');
  await expect(list).toBeVisible({ timeout: 60_000 });
  await expect(timeline.locator('.legend')).toContainText('read of an older value');
  // A long list starts closed.
  if (!(await list.evaluate((d) => (d as HTMLDetailsElement).open))) await list.locator('summary').click();
  const stores = list.getByRole('listitem').filter({ hasText: 'store buffer' });
  const stale = list.getByRole('listitem').filter({ hasText: 'was not yet visible' });
  expect((await stores.count()) + (await stale.count()), 'the timeline lists the reordered store').toBeGreaterThan(0);
  const note = timeline.getByTestId('weak-note');
  if ((await stores.count()) > 0) {
    // A store that sat in a store buffer: drawn from the step that wrote it to the step it became visible.
    const store = stores.first();
    await expect(store).toContainText(/CPU \d's store of \S+ = \S+ \(step \d+\) (waited in its store buffer: the other CPUs could see it only from step \d+|was still in its store buffer)/);
    await store.getByRole('button').click();
    const storeStep = Number(/^Step (\d+)/.exec((await store.textContent()) ?? '')?.[1]);
    await expect(timeline.getByTestId('timeline-position')).toContainText(`Step ${storeStep} of`);
    await expect(note).toContainText(/store buffer/);
    await expect(timeline.getByTestId('in-flight')).toContainText('Not yet visible to the other CPUs');
  }
  if ((await stale.count()) > 0) {
    // A read that saw an older value (ARM64): said as the contradiction the reader saw.
    await stale.first().getByRole('button').click();
    await expect(note).toContainText(/^CPU \d read \S+ = \S+ (but \S+ = \S+: )?.*CPU \d's write of .*\(step \d+\) was not yet visible/);
  }

  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const found = await serious(page);
    expect(found, `${scheme}:\n${found.join('\n')}`).toEqual([]);
  }

  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(500);
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(sideways, 'the weak-memory failure view scrolls sideways at 390 px').toBeLessThanOrEqual(0);
});

test('the rig editor chooses the architecture and the topology shows it', async ({ page }) => {
  await openApp(page);
  await page.getByRole('tab', { name: 'The box' }).click();
  await page.getByLabel('Start from').selectOption('preset:arm64-quad');
  const arch = page.getByRole('group', { name: 'Architecture (memory model)' });
  await expect(arch.getByRole('radio', { name: 'ARM64' })).toBeChecked();
  await expect(page.getByTestId('arch-explain')).toContainText('ARMv8');
  await expect(page.getByTestId('arch-fact')).toContainText('ARM64');
  await expect(page.getByRole('img', { name: /^Topology: .*ARM64 \(ARMv8\)/ })).toBeVisible();
  // Switching to x64 edits the rig (a preset renamed, as for any field) and redraws the topology.
  await arch.getByRole('radio', { name: 'x64' }).check();
  await expect(page.getByTestId('arch-explain')).toContainText('x86-TSO');
  await expect(page.getByTestId('arch-fact')).toContainText('x64');
  await expect(page.getByRole('img', { name: /^Topology: .*x64 \(x86-TSO\)/ })).toBeVisible();
  await expect(page.getByLabel('Rig id')).not.toHaveValue('arm64-quad');
  await page.getByRole('button', { name: 'Save as my rig' }).click();
  // Saved and listed among the user's rigs with its architecture; choosing it again shows x64.
  await page.getByLabel('Start from').selectOption('preset:arm64-quad');
  const mine = page.getByLabel('Start from').locator('optgroup[label="Your rigs"] option').first();
  await page.getByLabel('Start from').selectOption((await mine.getAttribute('value'))!);
  await expect(arch.getByRole('radio', { name: 'x64' })).toBeChecked();
});
