/**
 * The scenario library as the browser sees it: every file under scenarios/
 * (picked up with import.meta.glob, so new families appear without code
 * changes), grouped by primitive family. Modules load in one lazy chunk; the
 * source text of a scenario loads only when it is shown.
 */
import type { Scenario } from '../../scenario/define.ts';

export interface CatalogEntry {
  id: string;
  title: string;
  family: string;
  description: string;
  seeds: string[];
  variant?: 'buggy' | 'correct';
  pairedWith?: string;
  version: number;
  actors: number;
  path: string;
  scenario: Scenario;
}

export interface Catalog {
  entries: CatalogEntry[];
  byId: Map<string, CatalogEntry>;
  families: Map<string, CatalogEntry[]>;
  /** Files that failed to load, with the reason (a broken scenario never breaks the app). */
  broken: { path: string; message: string }[];
}

const modules = import.meta.glob<{ default: Scenario }>('/scenarios/**/*.ts');
const sources = import.meta.glob<string>('/scenarios/**/*.ts', { query: '?raw', import: 'default' });

let cached: Promise<Catalog> | undefined;

export function loadCatalog(): Promise<Catalog> {
  cached ??= (async () => {
    const entries: CatalogEntry[] = [];
    const broken: Catalog['broken'] = [];
    await Promise.all(
      Object.entries(modules).map(async ([path, load]) => {
        try {
          const s = (await load()).default;
          if (!s || typeof s.id !== 'string') throw new Error('no default export from defineScenario');
          entries.push({
            id: s.id,
            title: s.title,
            family: s.family,
            description: s.description,
            seeds: s.seeds ?? [],
            ...(s.variant ? { variant: s.variant } : {}),
            ...(s.pairedWith ? { pairedWith: s.pairedWith } : {}),
            version: s.version,
            actors: Object.keys(s.actors).length,
            path,
            scenario: s,
          });
        } catch (e) {
          broken.push({ path, message: (e as Error).message });
        }
      }),
    );
    entries.sort((a, b) => a.id.localeCompare(b.id));
    const families = new Map<string, CatalogEntry[]>();
    for (const e of entries) {
      const list = families.get(e.family) ?? [];
      list.push(e);
      families.set(e.family, list);
    }
    return { entries, byId: new Map(entries.map((e) => [e.id, e])), families, broken };
  })();
  return cached;
}

export async function loadScenarioSource(path: string): Promise<string> {
  const load = sources[path];
  if (!load) throw new Error(`no source for ${path}`);
  return load();
}

/** Articles the scenarios reproduce (shared/seeds), by file stem. */
export const SEED_ARTICLES: Record<string, string> = {
  '000_e9fda65b64a0843d': 'Using EX_RUNDOWN_REF (2011)',
  '001_53e72cbcf730dfd1': 'Inside NT Rundown Protection',
  '002_ec2c3b643d06aea0': 'How The Race Was Lost (the IRP cancel race)',
  '003_fa836adfb241329f': 'Driver DevCon and FAST_MUTEXes and ERESOURCES, oh my!',
};

export function seedTitle(stem: string): string {
  return SEED_ARTICLES[stem] ?? stem;
}

/**
 * Whether an entry matches a search: every word of the query appears in its id, title, primitive family,
 * description, variant or the seed articles it reproduces (by stem or title), case-insensitively.
 */
export function matchesSearch(e: Pick<CatalogEntry, 'id' | 'title' | 'family' | 'description' | 'seeds' | 'variant'>, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return true;
  const hay = [e.id, e.title, e.family, e.description, e.variant ?? '', ...e.seeds, ...e.seeds.map(seedTitle)].join(' ').toLowerCase();
  return words.every((w) => hay.includes(w));
}
