/**
 * Runs e2e/sandbox.spec.ts and e2e/hostile-user.spec.ts alone on their own port (4174), so it can run while other suites use 4173:
 *   npx playwright test -c e2e/sandbox.config.ts
 * The spec also runs under playwright.config.ts with the rest (`npm test`).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import base from '../playwright.config.ts';

const PORT = Number(process.env.RACEBOX_SANDBOX_PORT ?? 4174);
const baseURL = `http://localhost:${PORT}`;

export default defineConfig({
  ...base,
  testDir: '.',
  testMatch: ['sandbox.spec.ts', 'hostile-user.spec.ts'],
  reporter: 'list',
  grepInvert: undefined,
  use: { ...base.use, baseURL },
  webServer: {
    // Playwright runs it in this file's folder; Vite needs the repository root.
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    command: `npx vite build && npx vite preview --port ${PORT} --strictPort`,
    url: baseURL,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
