import type { ScenarioRef } from '../../engine/worker-contract.ts';

/** The scenario a run uses: from the library, or the user's own source (run only inside workers). */
export type ScenarioChoice =
  | { kind: 'library'; id: string; title: string; version: number; actors: number }
  | { kind: 'user'; id: string; title: string; version: number; actors: number; source: string };

export function scenarioRef(c: ScenarioChoice): ScenarioRef {
  return c.kind === 'library' ? { id: c.id } : { source: c.source, filename: `${c.id.replace(/\//g, '_')}.ts` };
}
