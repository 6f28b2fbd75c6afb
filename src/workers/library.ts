/// <reference types="vite/client" />
/**
 * Library scenarios inside a browser worker: every scenarios/<family>/<name>.ts,
 * bundled by Vite (import.meta.glob), loaded on first use.
 */
import type { Scenario } from '../scenario/define.ts';

const modules = import.meta.glob<{ default: Scenario }>('/scenarios/**/*.ts');

export async function libraryScenario(id: string): Promise<Scenario> {
  const direct = modules[`/scenarios/${id}.ts`];
  if (direct) {
    const s = (await direct()).default;
    if (s?.id === id) return s;
  }
  for (const load of Object.values(modules)) {
    const s = (await load()).default;
    if (s?.id === id) return s;
  }
  throw new Error(`unknown scenario '${id}'`);
}
