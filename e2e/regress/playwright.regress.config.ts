/**
 * The regression matrix in Chromium (`npm run regress -- [playwright args]`): every
 * (scenario, rig) row `racebox regress` runs, one test each, in the built app on its own port
 * (4175), so it never shares a preview server with `npm test`'s suites.
 *   npm run regress                                  # the library matrix
 *   npm run regress -- --grep 'spinlock/'            # some rows
 *   RACEBOX_REGRESS_CONFIG=path/racebox.config.ts npm run regress   # a team's config
 *   npm run regress -- --shard=1/2 --reporter=blob   # one CI machine's part (docs/ci.md)
 * Reports: list, HTML (playwright-report-regress/), JUnit (test-results/regress-junit.xml) and a
 * JSON summary per row (test-results/regress-summary.json).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import base from '../../playwright.config.ts';
import type { RowsDoc } from './row.ts';
import { REGRESS_REPORTERS } from './reporters.ts';

const PORT = Number(process.env.RACEBOX_REGRESS_PORT ?? 4175);
const baseURL = `http://localhost:${PORT}`;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// The config is evaluated by the runner and again by each worker process: the rows are listed
// once, by the runner, and passed to the workers in the environment they inherit.
if (process.env.RACEBOX_REGRESS_ROWS === undefined) {
  const config = process.env.RACEBOX_REGRESS_CONFIG;
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--import', './bin/register.mjs', 'e2e/regress/rows.ts', ...(config ? ['--config', config] : [])], {
      cwd: config ? process.cwd() : ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`racebox regress (browser): ${(err.stderr || err.message).trim()}`);
  }
  const doc = JSON.parse(out) as RowsDoc;
  if (doc.notInBrowser.length > 0) {
    throw new Error(
      'racebox regress (browser) runs library scenarios on preset rigs; user scenarios and rig files enter the page ' +
        `through the scenario sandbox's import, which the app does not offer yet. Run these with \`npx racebox regress\` in Node:\n  ${doc.notInBrowser.join('\n  ')}`,
    );
  }
  process.env.RACEBOX_REGRESS_ROWS = out;
}

export default defineConfig({
  ...base,
  testDir: '.',
  testMatch: '**/*.regress.ts',
  // One test per row, spread over workers and shards row by row.
  fullyParallel: true,
  workers: process.env.RACEBOX_REGRESS_WORKERS ? Number(process.env.RACEBOX_REGRESS_WORKERS) : 2,
  // A row is deterministic: a retry would only hide a real change.
  retries: 0,
  timeout: 180_000,
  outputDir: '../../test-results/regress',
  reporter: REGRESS_REPORTERS,
  use: { ...base.use, baseURL, trace: 'retain-on-failure' },
  webServer: {
    cwd: ROOT,
    command: `npx vite build && npx vite preview --port ${PORT} --strictPort`,
    url: baseURL,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
