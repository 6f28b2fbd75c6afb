/** The regression project's reports, also used when shards' blob reports are merged (merge.config.ts). */
import { fileURLToPath } from 'node:url';
import type { ReporterDescription } from '@playwright/test';

// Absolute, so that the runs and the merge (whose configs may sit in other folders) write the same files.
const at = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));

export const REGRESS_REPORTERS: ReporterDescription[] = [
  ['list'],
  ['html', { open: 'never', outputFolder: at('playwright-report-regress') }],
  ['junit', { outputFile: at('test-results/regress-junit.xml') }],
  [fileURLToPath(new URL('./summary-reporter.ts', import.meta.url)), { outputFile: at('test-results/regress-summary.json') }],
];
