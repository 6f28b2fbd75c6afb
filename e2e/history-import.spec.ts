/**
 * Issue 14: an import at the cap (200,000 runs, 153 MB) completes within seconds and never holds the page: the
 * file is read, parsed, checked and stored in a worker of its own (src/history/import.worker.ts), and the runs
 * are stored in chunks of 500 (schema v2, src/history/chunks.ts). Stored one record per run with the eight
 * paging indexes, Chromium took about a second per thousand runs: 50,000 runs took 42 s, the cap minutes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { historyFile } from '../bench/fixtures/history-file.ts';
import { longTasks, openApp, watchLongTasks } from './helpers.ts';

// Tracing snapshots the page while it works: measure without it.
test.use({ trace: 'off' });

test('200,000 runs (the cap) import within seconds without holding the page, every run stored; a corrupt file stores nothing and says why', async ({ page }) => {
  test.setTimeout(300_000);
  const runs = 200_000;
  const dir = mkdtempSync(join(tmpdir(), 'racebox-import-'));
  try {
    const text = historyFile(runs);
    const good = join(dir, 'racebox-history-200k.json');
    writeFileSync(good, text);
    // The same file with one bad field in its last run.
    const bad = join(dir, 'corrupt.json');
    const last = text.lastIndexOf('"outcome":"deadlock"');
    expect(last).toBeGreaterThan(text.length * 0.99);
    writeFileSync(bad, `${text.slice(0, last)}"outcome":"fine"${text.slice(last + '"outcome":"deadlock"'.length)}`);

    await openApp(page);
    await page.getByRole('tab', { name: 'History' }).click();
    await page.waitForTimeout(1000); // let the page settle before measuring
    await watchLongTasks(page);
    const tBad = Date.now();
    await page.locator('#import-file').setInputFiles(bad);
    const refused = page.getByRole('alert').filter({ hasText: 'corrupt.json was refused' });
    await expect(refused).toBeVisible({ timeout: 120_000 });
    await expect(refused).toContainText(`runs[${runs - 1}].outcome`);
    const refusedMs = Date.now() - tBad;
    await expect(refused).toContainText('Nothing stored was changed');
    expect(await storedRuns(page)).toBe(0);

    const t0 = Date.now();
    await page.locator('#import-file').setInputFiles(good);
    // The phases: reading, parsing and checking the file, then storing it (on a fast host the storing notice
    // may come and go between two looks: then the store's time is counted as nothing).
    const storing = page.getByRole('status').filter({ hasText: `storing ${runs.toLocaleString('en-US')} runs` });
    const imported = page.getByRole('status').filter({ hasText: `racebox-history-200k.json: Imported: ${runs} runs added` });
    await expect(storing.or(imported)).toBeVisible({ timeout: 240_000 });
    const checked = Date.now() - t0;
    await expect(imported).toBeVisible({ timeout: 240_000 });
    const ms = Date.now() - t0;
    expect(await storedRuns(page)).toBe(runs);
    const tasks = await longTasks(page);
    console.log(`import of ${runs} runs (${(text.length / 1e6).toFixed(0)} MB) in Chromium: ${ms} ms (read, parse and check ${checked} ms, store ${ms - checked} ms); the page's longest task ${Math.max(0, ...tasks)} ms; the corrupt file refused in ${refusedMs} ms`);
    // One record per run took 134 s here (116 s of it storing); chunks take 35-39 s on the same loaded host,
    // almost all of it parsing and checking 153 MB (docs/limits.md). The bound leaves room for a busier host.
    expect(ms).toBeLessThan(90_000);
    // The list shows the newest imported run first (read back from its chunk), and pages on.
    await expect(page.locator('tr[data-run-id]').first()).toHaveAttribute('data-run-id', String(runs));
    await page.getByRole('button', { name: 'Older runs' }).click();
    await expect(page.getByText('Page 2')).toBeVisible();
    await expect(page.locator('tr[data-run-id]').first()).not.toHaveAttribute('data-run-id', String(runs));
    // On the page's thread, parsing 35 MB of JSON was one task of about a second, and checking and cloning the
    // runs seconds more in slices; in the worker the page only draws notices and the first page of the list (a
    // loaded host stretched that to 376 ms once).
    const busy = tasks.reduce((a, b) => a + b, 0);
    expect(Math.max(0, ...tasks), `main-thread tasks during the imports: ${tasks.join(', ')}`).toBeLessThan(1000);
    expect(busy, `main-thread tasks during the imports: ${tasks.join(', ')}`).toBeLessThan(2000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs stored: those added one at a time, and the imported ones by their chunks' entries (schema v2). */
function storedRuns(page: import('@playwright/test').Page): Promise<number> {
  return page.evaluate(() => new Promise<number>((resolve, reject) => {
    const q = indexedDB.open('racebox');
    q.onerror = () => reject(q.error);
    q.onsuccess = () => {
      const db = q.result;
      const tx = db.transaction(['runs', 'runChunkIndex']);
      const c = tx.objectStore('runs').count();
      const e = tx.objectStore('runChunkIndex').getAll();
      tx.oncomplete = () => { db.close(); resolve(c.result + (e.result as { count: number }[]).reduce((n, x) => n + x.count, 0)); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    };
  }));
}
