/**
 * Browser side of the Comlink free-run workers: the factory the page gives the
 * free-run coordinator, and the one call the app makes. (The app's exploration
 * pool makes its own workers: src/ui/services/worker-runner.ts.)
 */
import * as Comlink from 'comlink';
import { freeRun, type FreeCpuWorker, type FreeRunOptions, type FreeRunSummary } from '../engine/free/run.ts';
import type { Rig } from '../machine/rig.ts';
import type { FreeWorkerApi, ScenarioRef } from '../engine/worker-contract.ts';

export function browserFreeWorker(): FreeCpuWorker {
  const w = new Worker(new URL('./free.worker.ts', import.meta.url), { type: 'module', name: 'racebox-free-cpu' });
  const api = Comlink.wrap<FreeWorkerApi>(w);
  return { api, terminate: () => w.terminate() };
}

/** Free-run in the page: one module worker per online CPU of the rig. Check freeRunAvailability() (engine/free/availability.ts) first. */
export function runFreeInBrowser(rig: Rig, scenario: ScenarioRef, scenarioId: string, options: FreeRunOptions = {}): Promise<FreeRunSummary> {
  return freeRun(rig, scenario, scenarioId, () => browserFreeWorker(), {
    hostCpus: navigator.hardwareConcurrency || 1,
    ...options,
  });
}
