// Entry of a free-run CPU worker thread (Comlink over worker_threads): TypeScript loading, then the API.
import './register.mjs';

const { exposeInThisThread } = await import('../src/workers/node-entry.ts');
exposeInThisThread('free');
