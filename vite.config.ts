import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Cross-origin isolation (COOP + COEP) makes SharedArrayBuffer and
// Atomics.wait available to the page and its workers.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Scenario files import their API as 'racebox', in the repository and in a user's own folder alike.
  resolve: { alias: { racebox: fileURLToPath(new URL('./src/scenario/index.ts', import.meta.url)) } },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  // keepNames: routine names (function.name) are what blue screens, traces and timelines show;
  // without it the minifier turns CancelRoutine into 'i' in the built app and its workers.
  worker: { format: 'es', rolldownOptions: { output: { keepNames: true } } },
  build: {
    target: 'es2022',
    // The app, and the lab page (free-run and worker-pool runs; used by e2e/free-run.spec.ts).
    rolldownOptions: {
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        lab: fileURLToPath(new URL('./lab.html', import.meta.url)),
      },
      output: { keepNames: true },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['e2e/**', 'node_modules/**', 'dist/**'],
    passWithNoTests: false,
  },
});
