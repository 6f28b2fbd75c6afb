import { defineConfig, devices } from '@playwright/test';

// RACEBOX_E2E_PORT lets two checkouts run their suites at once without one reusing the other's server.
const PORT = Number(process.env.RACEBOX_E2E_PORT ?? 4173);
const baseURL = `http://localhost:${PORT}`;

// Playwright's own browser download is not reachable here: use the system
// Chromium (Debian package `chromium`) or CHROMIUM_PATH. On a normal machine
// `npx playwright install chromium` and unsetting executablePath also works.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  workers: process.env.CI ? 1 : 2,
  retries: process.env.CI ? 1 : 0,
  forbidOnly: !!process.env.CI,
  // Tests tagged @isolated run in their own suite (e2e/sandbox.config.ts): see the test's comment.
  grepInvert: /@isolated/,
  timeout: 30_000,
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL,
    headless: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath,
          args: [
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--no-sandbox',
          ],
        },
      },
    },
  ],
  webServer: {
    // `npm test` builds before running e2e; building again here keeps
    // `npx playwright test` self-contained and the preview current.
    command: `npm run build && npx vite preview --port ${PORT} --strictPort`,
    url: baseURL,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
