/// <reference lib="webworker" />
// A free-run CPU worker in the browser (a module Worker wrapped with Comlink by src/workers/browser.ts).
import * as Comlink from 'comlink';
import { createFreeWorkerApi } from './free-core.ts';
import { libraryScenario } from './library.ts';

Comlink.expose(createFreeWorkerApi(libraryScenario));
