// Entry of a CLI worker thread: the same TypeScript loading as the main thread, then the job loop.
import './register.mjs';

await import('../src/cli/worker.ts');
