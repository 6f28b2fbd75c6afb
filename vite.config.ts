import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { sandboxFrame } from './vite-plugins/sandbox-frame.ts';

// Cross-origin isolation (COOP + COEP) makes SharedArrayBuffer and
// Atomics.wait available to the page and its workers.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Scenario files import their API as 'racebox', in the repository and in a user's own folder alike.
  resolve: { alias: { racebox: fileURLToPath(new URL('./src/scenario/index.ts', import.meta.url)) } },
  // The frame user scenario code runs in gets its own, stricter headers (docs/sandbox.md).
  plugins: [sandboxFrame()],
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  // keepNames: routine names (function.name) are what blue screens, traces and timelines show;
  // without it the minifier turns CancelRoutine into 'i' in the built app and its workers.
  worker: { format: 'es', rolldownOptions: { output: { keepNames: true } } },
  build: {
    target: 'es2022',
    rolldownOptions: {
      input: { main: fileURLToPath(new URL('./index.html', import.meta.url)) },
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
