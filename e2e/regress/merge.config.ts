/**
 * Merges the shards' blob reports into the regression's reports (HTML, JUnit, JSON summary):
 *   npx playwright merge-reports --config e2e/regress/merge.config.ts all-blob-reports
 */
import { defineConfig } from '@playwright/test';
import { REGRESS_REPORTERS } from './reporters.ts';

export default defineConfig({
  testDir: '.',
  reporter: REGRESS_REPORTERS,
});
