/// <reference lib="webworker" />
/**
 * An exploration worker inside the scenario sandbox (docs/sandbox.md, sandbox-host.ts): user scenarios only,
 * given as source. It is started by the sandbox frame from a blob: URL, so it cannot be reached by the page's
 * `new Worker(url)` port: it says 'ready', then exposes its API with Comlink on the first MessagePort it is sent
 * (the app's end of that channel talks to it directly). Library scenarios run in the app's own workers; nothing
 * here loads one, so the built worker is a single file with no chunks to fetch (the sandbox can fetch nothing).
 */
import * as Comlink from 'comlink';
import { createExploreWorkerApi } from './explore-core.ts';

const noLibrary = (id: string): never => {
  throw new Error(`the scenario sandbox runs user scenarios only; '${id}' is a library scenario`);
};

addEventListener(
  'message',
  (event: MessageEvent) => {
    const port = event.ports[0];
    if (port) Comlink.expose(createExploreWorkerApi(async (id) => noLibrary(id)), port);
  },
  { once: true },
);
postMessage('ready');
