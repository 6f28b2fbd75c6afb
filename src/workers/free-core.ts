/** The free-run CPU worker's API, independent of the environment it is exposed in. */
import { runFreeCpu } from '../engine/free/cpu.ts';
import type { FreeCpuRequest, FreeWorkerApi } from './api.ts';
import { loadScenarioRef, type LibraryLoader } from './scenario-source.ts';

export function createFreeWorkerApi(library: LibraryLoader): FreeWorkerApi {
  return {
    async runCpu(req: FreeCpuRequest) {
      const scenario = await loadScenarioRef(req.scenario, library);
      return runFreeCpu({ ...req, scenario });
    },
  };
}
