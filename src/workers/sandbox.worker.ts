/// <reference lib="webworker" />
/**
 * A worker inside the scenario sandbox (docs/sandbox.md, sandbox-host.ts): user scenarios only, given as
 * source. It is started by the sandbox frame from a blob: URL, so it cannot be reached by the page's
 * `new Worker(url)` port: it says 'ready', then exposes its API with Comlink on the first MessagePort it is sent
 * (the app's end of that channel talks to it directly). Library scenarios run in the app's own workers; nothing
 * here loads one, so the built worker is a single file with no chunks to fetch (the sandbox can fetch nothing).
 *
 * One bundle, three roles: an exploration worker (explore, shareBelow, replay, and manual: be the scheduler),
 * a free-run CPU worker (runCpu),
 * and a coordinator (explorePool, freeRun) that starts workers of the same bundle itself, from its own source
 * text, so that the shared memory they use (the pool's cancel flag, failure bound and heartbeats, the machine's
 * memory in free-run) is made inside the sandbox's agent cluster: a SharedArrayBuffer cannot cross from the page
 * into the opaque frame. The page cancels through Comlink (cancel()), the coordinator sets the shared flag.
 */
import * as Comlink from 'comlink';
import { freeRun, type FreeCpuWorker, type FreeProgress, type FreeRunSummary } from '../engine/free/run.ts';
import { explorePool, poolCancelFlag, type PoolSummary, type PoolWorker } from '../engine/pool.ts';
import {
  CANCEL_WORD, type ExploreRequest, type FencesWorkerApi, type FreeWorkerApi, type ManualWorkerApi, type PoolExploreWorkerApi, type Progress, type ScenarioRef,
} from '../engine/worker-contract.ts';
import type { Rig } from '../machine/rig.ts';
import { createExploreWorkerApi } from './explore-core.ts';
import { createFreeWorkerApi } from './free-core.ts';
import { installBufferMeter } from './memory-meter.ts';

// Before any scenario loads: what it allocates outside the JavaScript heap is counted against the limit.
installBufferMeter(self as unknown as typeof globalThis);

const noLibrary = async (id: string): Promise<never> => {
  throw new Error(`the scenario sandbox runs user scenarios only; '${id}' is a library scenario`);
};

export interface SandboxFreeRunOptions {
  iterations?: number;
  seconds?: number;
  seed?: number;
  hostCpus?: number;
}

export interface SandboxWorkerApi extends PoolExploreWorkerApi, ManualWorkerApi, FreeWorkerApi, FencesWorkerApi {
  /** Spreads one exploration over `workers` workers started here (src/engine/pool.ts, with its stall watchdog). */
  explorePool(req: Omit<ExploreRequest, 'first' | 'stride'>, workers: number, onProgress?: (p: Progress) => void): Promise<PoolSummary>;
  /** Free-run with one worker per online CPU, started here over memory made here. */
  freeRun(rig: Rig, scenario: ScenarioRef, scenarioId: string, o: SandboxFreeRunOptions, onProgress?: (p: FreeProgress) => void): Promise<FreeRunSummary>;
  /** Stops the coordinator's current run (explorePool or freeRun) as a Cancel does. */
  cancel(): void;
}

let ownSource = '';
let cancelCurrent: () => void = () => {};

/** A worker of this same bundle, started from blob: URLs as the frame starts them. */
function child(name: string): { api: Comlink.Remote<SandboxWorkerApi>; terminate(): void } {
  const blobUrl = (text: string): string => URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
  const moduleUrl = blobUrl(ownSource);
  const loader = blobUrl(`import(${JSON.stringify(moduleUrl)}).catch((e) => postMessage({ loadError: String((e && e.message) || e) }));`);
  const worker = new Worker(loader, { name });
  const channel = new MessageChannel();
  worker.onmessage = (e: MessageEvent) => {
    worker.onmessage = null;
    URL.revokeObjectURL(loader);
    URL.revokeObjectURL(moduleUrl);
    if (e.data === 'ready') worker.postMessage({ source: ownSource }, [channel.port2]);
  };
  return { api: Comlink.wrap<SandboxWorkerApi>(channel.port1), terminate: () => worker.terminate() };
}

const explorer = createExploreWorkerApi(noLibrary);
const api: SandboxWorkerApi = {
  ...explorer,
  ...createFreeWorkerApi(noLibrary),
  async explorePool(req, workers, onProgress) {
    const { flag, cancel } = poolCancelFlag();
    cancelCurrent = cancel;
    try {
      const factory = (i: number): PoolWorker => child(`racebox-sandbox-explore-${i}`);
      return await explorePool(req, { workers, factory, cancel: flag, ...(onProgress ? { onProgress } : {}) });
    } finally {
      cancelCurrent = () => {};
    }
  },
  async freeRun(rig, scenario, scenarioId, o, onProgress) {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    cancelCurrent = () => Atomics.store(flag, CANCEL_WORD, 1);
    try {
      return await freeRun(rig, scenario, scenarioId, (slot): FreeCpuWorker => child(`racebox-sandbox-cpu-${slot}`), {
        ...o,
        cancel: flag,
        ...(onProgress ? { onProgress } : {}),
      });
    } finally {
      cancelCurrent = () => {};
    }
  },
  cancel() {
    cancelCurrent();
  },
};

addEventListener(
  'message',
  (event: MessageEvent<{ source?: string } | null>) => {
    const port = event.ports[0];
    ownSource = event.data?.source ?? '';
    if (port) Comlink.expose(api, port);
  },
  { once: true },
);
postMessage('ready');
