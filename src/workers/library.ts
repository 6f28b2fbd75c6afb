/// <reference types="vite/client" />
/**
 * Library scenarios inside a browser worker: every scenarios/<family>/<name>.ts,
 * bundled by Vite (import.meta.glob), loaded on first use.
 */
import type { Scenario } from '../scenario/define.ts';
import { SCENARIO_URL_SCHEME } from '../engine/source-site.ts';
import { scenarioFromSource } from './scenario-source.ts';

const modules = import.meta.glob<{ default: Scenario }>('/scenarios/**/*.ts');
/**
 * The same files as text: a library scenario is evaluated from its own source
 * (sucrase keeps every line where it was), so traces and bug checks in the
 * browser name the scenario's real lines, as they do in the CLI.
 */
const sources = import.meta.glob<string>('/scenarios/**/*.ts', { query: '?raw', import: 'default' });

async function fromSource(path: string): Promise<Scenario | undefined> {
  const load = sources[path];
  if (!load) return undefined;
  try {
    return scenarioFromSource(await load(), path, `${SCENARIO_URL_SCHEME}${path}`);
  } catch {
    // A library file the in-worker transpiler cannot handle still runs from the bundle (without line numbers).
    return undefined;
  }
}

export async function libraryScenario(id: string): Promise<Scenario> {
  const path = `/scenarios/${id}.ts`;
  const evaluated = await fromSource(path);
  if (evaluated?.id === id) return evaluated;
  const direct = modules[path];
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
