/** The free-run CPU worker's API, independent of the environment it is exposed in. */
import { runFreeCpu, type FreeCpuJob } from '../engine/free/cpu.ts';
import type { FreeCpuRequest, FreeWorkerApi, ScenarioRef } from '../engine/worker-contract.ts';
import { loadScenarioRef, type LibraryLoader } from './scenario-source.ts';

/** Loads plain-function twins of the kernel and of a scenario, where the environment can make them (Node: bin/twin-loader.mjs). */
export type TwinLoader = (ref: ScenarioRef) => Promise<FreeCpuJob['twin'] | undefined>;

export function createFreeWorkerApi(library: LibraryLoader, twinLoader?: TwinLoader): FreeWorkerApi {
  return {
    async runCpu(req: FreeCpuRequest) {
      const scenario = await loadScenarioRef(req.scenario, library);
      const twin = twinLoader && req.mode !== 'generators' ? await twinLoader(req.scenario) : undefined;
      return runFreeCpu({ ...req, scenario, ...(twin ? { twin } : {}) });
    },
  };
}
