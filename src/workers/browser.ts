/**
 * Browser side of the Comlink workers: the factories the page gives the
 * free-run coordinator and the exploration pool, and one-call helpers for the UI.
 */
import * as Comlink from 'comlink';
import { freeRunAvailability, type FreeRunAvailability } from '../engine/free/availability.ts';
import { freeRun, type FreeCpuWorker, type FreeRunOptions, type FreeRunSummary } from '../engine/free/run.ts';
import { explorePool, type PoolOptions, type PoolSummary, type PoolWorker } from '../engine/pool.ts';
import type { Rig } from '../machine/rig.ts';
import type { ExploreRequest, FreeWorkerApi, PoolExploreWorkerApi, ScenarioRef } from '../engine/worker-contract.ts';

export { freeRunAvailability, type FreeRunAvailability };

export function browserFreeWorker(): FreeCpuWorker {
  const w = new Worker(new URL('./free.worker.ts', import.meta.url), { type: 'module', name: 'racebox-free-cpu' });
  const api = Comlink.wrap<FreeWorkerApi>(w);
  return { api, terminate: () => w.terminate() };
}

export function browserExploreWorker(): PoolWorker {
  const w = new Worker(new URL('./explore.worker.ts', import.meta.url), { type: 'module', name: 'racebox-explore' });
  const api = Comlink.wrap<PoolExploreWorkerApi>(w);
  return { api, terminate: () => w.terminate() };
}

/** Free-run in the page: one module worker per online CPU of the rig. Check freeRunAvailability() first. */
export function runFreeInBrowser(rig: Rig, scenario: ScenarioRef, scenarioId: string, options: FreeRunOptions = {}): Promise<FreeRunSummary> {
  return freeRun(rig, scenario, scenarioId, () => browserFreeWorker(), {
    hostCpus: navigator.hardwareConcurrency || 1,
    ...options,
  });
}

/** A controlled exploration spread over `workers` module workers (default: the host's cores). */
export function explorePoolInBrowser(
  req: Omit<ExploreRequest, 'first' | 'stride'>,
  options: Partial<Omit<PoolOptions, 'factory'>> = {},
): Promise<PoolSummary> {
  return explorePool(req, { workers: options.workers ?? (navigator.hardwareConcurrency || 2), factory: () => browserExploreWorker(), ...options });
}
