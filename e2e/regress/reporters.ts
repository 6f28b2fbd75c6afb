/** The regression project's reports, also used when shards' blob reports are merged (merge.config.ts). */
import { fileURLToPath } from 'node:url';
import type { ReporterDescription } from '@playwright/test';

/**
 * Where the reports go: the repository root, or RACEBOX_REGRESS_OUT (the test that runs the
 * project on a failing config keeps its reports apart from the run around it). Absolute, so that
 * the runs and the merge write the same files whatever folder their configs sit in.
 */
export const REGRESS_OUT = process.env.RACEBOX_REGRESS_OUT ?? fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export const REGRESS_REPORTERS: ReporterDescription[] = [
  ['list'],
  ['html', { open: 'never', outputFolder: `${REGRESS_OUT}/playwright-report-regress` }],
  ['junit', { outputFile: `${REGRESS_OUT}/test-results/regress-junit.xml` }],
  [fileURLToPath(new URL('./summary-reporter.ts', import.meta.url)), { outputFile: `${REGRESS_OUT}/test-results/regress-summary.json` }],
];
