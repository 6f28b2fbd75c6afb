/// <reference lib="webworker" />
/**
 * An exploration worker in the browser: ExploreWorkerApi (plus the pool's
 * shareBelow) over Comlink. Library scenarios come from the bundle; a user's
 * scenario arrives as TypeScript source and is transpiled here (sucrase).
 */
import * as Comlink from 'comlink';
import { installBrowserFaultHandlers } from './async-faults.ts';
import { createExploreWorkerApi } from './explore-core.ts';
import { libraryScenario } from './library.ts';

installBrowserFaultHandlers(self);
Comlink.expose(createExploreWorkerApi(libraryScenario));
