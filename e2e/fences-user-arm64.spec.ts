import { expect, test } from '@playwright/test';
import { openApp, pickRig } from './helpers.ts';

test.describe.configure({ timeout: 300_000 });

const SOURCE = `import { defineScenario, POOL_FLAG_NON_PAGED } from 'racebox';

export default defineScenario({
  id: 'user/publish',
  title: 'Flag published with a plain store',
  family: 'user',
  description: 'Data then flag, both plain; the reader checks data after seeing the flag.',
  variant: 'buggy',
  setup: (k) => ({ data: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Data'), flag: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Flag'), seen: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen') }),
  actors: {
    writer: { cpu: 0, *run(k, s) {
      yield* k.WriteNoFence(s.data, 42);
      yield* k.WriteNoFence(s.flag, 1);
    } },
    reader: { cpu: 1, *run(k, s) {
      while ((yield* k.ReadNoFence(s.flag)) === 0);
      const d = yield* k.ReadNoFence(s.data);
      yield* k.InterlockedExchange(s.seen, d + 1);
    } },
  },
  invariants: { 'data seen': (s, k) => k.peek(s.seen) === 43 || 'reader saw the flag but not the data' },
  expect: 'pass',
});
`;

test('user scenario on arm64-quad: Suggest fences in the sandbox', async ({ page }) => {
  await openApp(page);
  await pickRig(page, 'arm64-quad');
  await page.getByRole('tab', { name: 'Editor' }).click();
  const editor = page.getByRole('textbox', { name: 'Scenario source (TypeScript)' });
  await expect(editor).toBeVisible({ timeout: 20_000 });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(SOURCE);
  await expect(page.getByTestId('diagnostics')).toContainText('No problems', { timeout: 20_000 });
  await page.getByRole('button', { name: 'Run scenario' }).click();
  await expect(page.getByTestId('failure-report')).toContainText('reader saw the flag', { timeout: 60_000 });
  const panel = page.getByTestId('fence-suggestions');
  await expect(panel).toBeVisible({ timeout: 30_000 });
  await panel.getByTestId('suggest-fences').click();
  await expect(panel.getByTestId('fences-result')).toBeVisible({ timeout: 240_000 });
  await expect(panel.getByTestId('fence-suggestion').first()).toContainText(/WriteNoFence\(s\.flag, 1\).*→ WriteRelease/);
});
