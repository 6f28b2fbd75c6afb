/**
 * Loading a ScenarioRef inside a worker. A user's scenario arrives as source
 * text and is prepared here (scenario/load-source.ts: transpiled and checked for
 * forgotten yield* and the like), evaluated with `racebox` as its only import,
 * and checked by defineScenario. Library
 * scenarios are loaded by each environment's own loader (Vite's
 * import.meta.glob in the browser, the CLI's loader in Node).
 */
import { ScenarioError } from '../machine/bugcheck.ts';
import { defineScenario, type Scenario, type ScenarioDefinition } from '../scenario/define.ts';
import * as raceboxApi from '../scenario/index.ts';
import type { ScenarioRef } from '../engine/worker-contract.ts';
import { evaluateModule, firstError, prepareScenarioSource } from '../scenario/load-source.ts';

/**
 * `sourceURL` names the evaluated code in stack traces, so that a traced step
 * or a failure can point at its line (source-site.ts knows both names used).
 */
export function scenarioFromSource(source: string, filename: string, sourceURL = 'user-scenario.js'): Scenario {
  const t = prepareScenarioSource(source, filename);
  if (!t.ok) throw new ScenarioError(firstError(t.diagnostics, filename)!);
  const exports = evaluateModule(t.code, { racebox: raceboxApi }, sourceURL);
  if (exports.default === undefined) throw new Error(`${filename} has no default export (export default defineScenario({...}))`);
  return { ...defineScenario(exports.default as ScenarioDefinition<unknown>), source: filename };
}

export type LibraryLoader = (id: string) => Promise<Scenario>;

export async function loadScenarioRef(ref: ScenarioRef, library: LibraryLoader): Promise<Scenario> {
  if ('id' in ref) return library(ref.id);
  return scenarioFromSource(ref.source, ref.filename);
}
