/**
 * Loading a ScenarioRef inside a worker. A user's scenario arrives as source
 * text and is transpiled here (sucrase, see transpile.ts), evaluated with
 * `racebox` as its only import, and checked by defineScenario. Library
 * scenarios are loaded by each environment's own loader (Vite's
 * import.meta.glob in the browser, the CLI's loader in Node).
 */
import { defineScenario, type Scenario, type ScenarioDefinition } from '../scenario/define.ts';
import * as raceboxApi from '../scenario/index.ts';
import type { ScenarioRef } from '../engine/worker-contract.ts';
import { evaluateModule, transpileScenario } from './transpile.ts';

/**
 * `sourceURL` names the evaluated code in stack traces, so that a traced step
 * or a failure can point at its line (source-site.ts knows both names used).
 */
export function scenarioFromSource(source: string, filename: string, sourceURL = 'user-scenario.js'): Scenario {
  const t = transpileScenario(source, filename);
  if (!t.ok) {
    const d = t.diagnostics.find((x) => x.severity === 'error')!;
    throw new Error(`${filename}:${d.line}:${d.column}: ${d.message}`);
  }
  const exports = evaluateModule(t.code, { racebox: raceboxApi }, sourceURL);
  if (exports.default === undefined) throw new Error(`${filename} has no default export (export default defineScenario({...}))`);
  return { ...defineScenario(exports.default as ScenarioDefinition<unknown>), source: filename };
}

export type LibraryLoader = (id: string) => Promise<Scenario>;

export async function loadScenarioRef(ref: ScenarioRef, library: LibraryLoader): Promise<Scenario> {
  if ('id' in ref) return library(ref.id);
  return scenarioFromSource(ref.source, ref.filename);
}
