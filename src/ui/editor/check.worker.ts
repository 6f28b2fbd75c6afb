/** The editor's check worker: checkScenario (check-scenario.ts) off the page, where user code may run. */
import { expose } from 'comlink';
import { checkScenario } from './check-scenario.ts';

const api = { check: checkScenario };
export type CheckWorkerApi = typeof api;
export type { CheckResult, ScenarioMeta } from './check-scenario.ts';
expose(api);
