/**
 * The regression matrix in Chromium (`npm run regress -- [playwright args]`): every
 * (scenario, rig) row `racebox regress` runs, one test each, in the built app on its own port
 * (4175), so it never shares a preview server with `npm test`'s suites.
 *   npm run regress                                  # the library matrix
 *   npm run regress -- --grep 'spinlock/'            # some rows
 *   RACEBOX_REGRESS_CONFIG=path/racebox.config.ts npm run regress   # a team's config: its scenarios are
 *                                    imported into the page, confirmed and run in the sandbox (docs/ci.md)
 *   npm run regress -- --shard=1/2 --reporter=blob   # one CI machine's part (docs/ci.md)
 * Reports: list, HTML (playwright-report-regress/), JUnit (test-results/regress-junit.xml) and a
 * JSON summary per row (test-results/regress-summary.json).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import base from '../../playwright.config.ts';
import { REGRESS_OUT, REGRESS_REPORTERS } from './reporters.ts';

const PORT = Number(process.env.RACEBOX_REGRESS_PORT ?? 4175);
const baseURL = `http://localhost:${PORT}`;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  ...base,
  testDir: '.',
  testMatch: '**/*.regress.ts',
  // A team's config runs its rows only: the project's own tests (agree, fail) check racebox, not the team's scenarios.
  testIgnore: process.env.RACEBOX_REGRESS_CONFIG ? ['**/agree.regress.ts', '**/fail.regress.ts'] : [],
  // One test per row, spread over workers and shards row by row.
  fullyParallel: true,
  workers: process.env.RACEBOX_REGRESS_WORKERS ? Number(process.env.RACEBOX_REGRESS_WORKERS) : 2,
  // A row is deterministic: a retry would only hide a real change.
  retries: 0,
  timeout: 180_000,
  outputDir: `${REGRESS_OUT}/test-results/regress`,
  reporter: REGRESS_REPORTERS,
  // A mismatch's message carries the schedule and a link that replays it: that is the artefact
  // to keep. A trace of every row would cost more than the row.
  use: { ...base.use, baseURL, trace: 'off', screenshot: 'off' },
  webServer: {
    cwd: ROOT,
    // `npm test` has just built the app (RACEBOX_REGRESS_PREBUILT=1): only serve it.
    command: `${process.env.RACEBOX_REGRESS_PREBUILT ? '' : 'npx vite build && '}npx vite preview --port ${PORT} --strictPort`,
    url: baseURL,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
