/**
 * Node side of the Comlink workers (worker_threads, through Comlink's node
 * adapter): the entry a worker thread runs (bin/free-worker.mjs and
 * bin/explore-worker.mjs load this after registering TypeScript), and the
 * factories the CLI, benchmarks and tests give the free-run coordinator and
 * the pool.
 */
import { availableParallelism } from 'node:os';
import { parentPort, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint, { type NodeEndpoint } from 'comlink/dist/esm/node-adapter.mjs';
import { loadScenario, splitScenarioQuery } from './node-load.ts';
import type { FreeCpuWorker } from '../engine/free/run.ts';
import type { PoolWorker } from '../engine/pool.ts';
import type { FreeWorkerApi, PoolExploreWorkerApi } from '../engine/worker-contract.ts';
import { installNodeFaultHandlers } from './async-faults.ts';
import { createExploreWorkerApi } from './explore-core.ts';
import { createFreeWorkerApi, type TwinLoader } from './free-core.ts';
import { guardProcess, isGuardReport } from './node-guard.ts';
import { describeWorkerError, workerResourceLimits } from './node-limits.ts';
import { pathToFileURL } from 'node:url';
import type { Kernel } from '../kernel/kernel.ts';
import type { Machine } from '../machine/machine.ts';
import { defineScenario, type ScenarioDefinition } from '../scenario/define.ts';

const FREE_WORKER = new URL('../../bin/free-worker.mjs', import.meta.url);
const EXPLORE_WORKER = new URL('../../bin/explore-worker.mjs', import.meta.url);

/** Live worker threads started by the factories below (tests check that none is left). */
export const liveNodeWorkers = new Set<Worker>();

function start<T>(url: URL): { api: Comlink.Remote<T>; terminate(): void; onFault(listener: (reason: string, fatal: boolean) => void): void } {
  const w = new Worker(url, { resourceLimits: workerResourceLimits() });
  liveNodeWorkers.add(w);
  let terminating = false;
  let died: string | undefined;
  const listeners: ((reason: string, fatal: boolean) => void)[] = [];
  const tell = (reason: string, fatal: boolean): void => listeners.forEach((l) => l(reason, fatal));
  // A worker that dies (crash, heap limit) must not keep a Comlink call pending forever: the coordinator hears why.
  w.on('error', (e) => {
    died ??= describeWorkerError(e);
  });
  w.on('exit', (code) => {
    liveNodeWorkers.delete(w);
    if (!terminating) tell(died ?? `the worker thread ended (exit code ${code}) before its run finished`, true);
  });
  w.on('message', (m: unknown) => {
    if (isGuardReport(m)) tell(m.raceboxGuard, false);
  });
  const api = Comlink.wrap<T>(nodeEndpoint(w as unknown as NodeEndpoint));
  return {
    api,
    terminate: () => {
      terminating = true;
      void w.terminate();
    },
    onFault: (listener) => {
      listeners.push(listener);
    },
  };
}

/** Host cores, for FreeRunOptions.hostCpus (Node 20 has no navigator.hardwareConcurrency). */
export function nodeHostCpus(): number {
  return availableParallelism();
}

export function nodeFreeWorker(): FreeCpuWorker {
  return start<FreeWorkerApi>(FREE_WORKER);
}

export function nodeExploreWorker(): PoolWorker {
  return start<PoolExploreWorkerApi>(EXPLORE_WORKER);
}

/**
 * Plain-function twins of the kernel and of a library or on-disk scenario,
 * made from the same source by the `?twin` module hook (bin/twin-loader.mjs).
 * Undefined when the hook is not registered or the scenario is source text.
 */
export const nodeTwins: TwinLoader = async (ref) => {
  if (!('id' in ref) || !twinHookRegistered()) return undefined;
  const s = await loadScenario(ref.id);
  if (!s.source) return undefined;
  const { path, query } = splitScenarioQuery(s.source);
  const mod = (await import(`${pathToFileURL(path).href}${query ? `${query}&` : '?'}twin`)) as { default?: unknown };
  const { Kernel } = (await import(`${new URL('../kernel/kernel.ts', import.meta.url).href}?twin`)) as { Kernel: new (m: Machine) => Kernel };
  return { Kernel, scenario: { ...defineScenario(mod.default as ScenarioDefinition<unknown>), source: s.source } };
};

function twinHookRegistered(): boolean {
  return (globalThis as { __raceboxTwinHook?: boolean }).__raceboxTwinHook === true;
}

/** Exposes a worker API on this worker thread. */
export function exposeInThisThread(kind: 'free' | 'explore'): void {
  if (!parentPort) throw new Error('exposeInThisThread: not in a worker thread');
  guardProcess();
  // A scenario's late throw or unhandled rejection becomes the run's 'error', not the thread's death.
  // (Exploration workers only: free-run CPU workers do not report them yet, and must not swallow them.)
  if (kind === 'explore') installNodeFaultHandlers(process);
  const library = (id: string) => loadScenario(id);
  const api = kind === 'free' ? createFreeWorkerApi(library, nodeTwins) : createExploreWorkerApi(library);
  Comlink.expose(api, nodeEndpoint(parentPort as unknown as NodeEndpoint));
}
