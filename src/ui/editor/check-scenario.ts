/**
 * Checks a user's scenario as it is typed, inside a worker (user code never
 * runs on the page): transpile and check the syntax tree (scenario/load-source.ts:
 * syntax errors, a kernel routine called without yield*, a yield of a value,
 * k[…], async — each with its line), evaluate the
 * module with 'racebox' as its only import, validate with defineScenario
 * (scenario-API errors located at the field or actor they name), then one
 * controlled schedule on a two-CPU rig to catch routines that throw.
 */
import { explore } from '../../engine/explore.ts';
import { presetRig, PRESET_RIGS } from '../../machine/presets.ts';
import { defineScenario, type Scenario, type ScenarioDefinition } from '../../scenario/define.ts';
import * as racebox from '../../scenario/index.ts';
import { evaluateModule, locateScenarioError, prepareScenarioSource, runtimeErrorLine, type Diagnostic } from '../../scenario/load-source.ts';

export interface ScenarioMeta {
  id: string;
  title: string;
  family: string;
  version: number;
  actors: number;
}

export interface CheckResult {
  diagnostics: Diagnostic[];
  meta?: ScenarioMeta;
  /** Outcome of one trial schedule, when the scenario loaded. */
  trial?: string;
}

/** The diagnostics of a source as the editor shows them, with the scenario's meta when it loaded. */
export function checkScenario(source: string, filename: string): CheckResult {
  const t = prepareScenarioSource(source, filename);
  if (!t.ok) return { diagnostics: t.diagnostics };
  let exports: Record<string, unknown>;
  try {
    exports = evaluateModule(t.code, { racebox });
  } catch (e) {
    const err = e as Error;
    // defineScenario runs while the module evaluates: its errors name a field or actor, so point there.
    if (err?.name === 'ScenarioError') return { diagnostics: [{ line: locateScenarioError(err.message, source), column: 1, message: err.message, severity: 'error', source: 'scenario' }] };
    return { diagnostics: [{ line: runtimeErrorLine(e) ?? 1, column: 1, message: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`, severity: 'error', source: 'runtime' }] };
  }
  if (exports.default === undefined) {
    const line = source.split('\n').findIndex((l) => /defineScenario\s*\(/.test(l)) + 1 || 1;
    return { diagnostics: [{ line, column: 1, message: 'the module has no default export: write `export default defineScenario({...})`', severity: 'error', source: 'scenario' }] };
  }
  let s: Scenario;
  try {
    s = defineScenario(exports.default as ScenarioDefinition<unknown>);
  } catch (e) {
    const message = (e as Error).message;
    return { diagnostics: [{ line: locateScenarioError(message, source), column: 1, message, severity: 'error', source: 'scenario' }] };
  }
  const meta: ScenarioMeta = { id: s.id, title: s.title, family: s.family, version: s.version, actors: Object.keys(s.actors).length };
  const diagnostics: Diagnostic[] = [];
  let trial: string | undefined;
  try {
    const rig = presetRig('dual-opteron-240') ?? PRESET_RIGS[0]!;
    const r = explore(rig, s, { strategy: 'random', seed: 1, schedules: 1 });
    trial = r.outcome;
    if (r.outcome === 'error' && r.failure) {
      const site = r.failure.source;
      // scenarioSite has already taken away the two header lines evaluateModule's new Function adds.
      const line = site && /user-scenario/.test(site.file) ? site.line : locateScenarioError(r.failure.message, source);
      diagnostics.push({ line, column: 1, message: r.failure.message, severity: 'error', source: 'runtime' });
    }
  } catch (e) {
    diagnostics.push({ line: runtimeErrorLine(e) ?? 1, column: 1, message: (e as Error).message, severity: 'error', source: 'runtime' });
  }
  return { diagnostics, meta, ...(trial ? { trial } : {}) };
}

