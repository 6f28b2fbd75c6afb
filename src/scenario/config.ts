/**
 * A team's `racebox.config.ts` (or `.json`): which scenario files `racebox regress` runs, which
 * rigs besides the presets it checks them on, and how hard it searches. The CLI finds the file
 * the way vitest and Playwright find theirs (the working folder, then its parents).
 */

/** The controlled-engine strategies a regression row may use (the engine's STRATEGIES). */
export const REGRESS_STRATEGIES = ['portfolio', 'pct', 'random', 'pos', 'dfs'] as const;
export type RegressStrategy = (typeof REGRESS_STRATEGIES)[number];

/** How hard one row searches; every field is optional and falls back to the next level. */
export interface RegressSettings {
  /** Exploration strategy (default 'portfolio'). */
  strategy?: RegressStrategy;
  /**
   * Seeds 1..N each search for an expected failure; with N > 1, 9 in 10 must find it (default 1).
   * A row that expects `pass` runs seed 1 only.
   */
  seeds?: number;
  /** Schedules each seed may search for an expected failure (default 10,000). */
  findBudget?: number;
  /** Schedules a row that expects `pass` explores (default: the scenario's `budget`, else 2,000). */
  passBudget?: number;
}

export interface RaceboxConfig extends RegressSettings {
  /** Scenario files, as globs relative to the config file's folder (default `scenarios/**` files). */
  scenarios?: string[];
  /** Rig files (.json) relative to the config file, checked besides the preset rigs. */
  rigs?: string[];
  /** Settings for single scenarios, by scenario id: `{ 'mine/queue': { passBudget: 50000 } }`. */
  overrides?: Record<string, RegressSettings>;
}

/** Types a config file's default export: `export default defineConfig({ scenarios: ['race/**\/*.ts'] })`. */
export function defineConfig(config: RaceboxConfig): RaceboxConfig {
  return config;
}

export const DEFAULT_SCENARIO_GLOBS: readonly string[] = ['scenarios/**/*.{ts,mts,js,mjs}'];

export class ConfigError extends Error {}

const SETTING_LIMITS: Record<'seeds' | 'findBudget' | 'passBudget', [number, number]> = {
  seeds: [1, 1000],
  findBudget: [1, 100_000_000],
  passBudget: [1, 1_000_000_000],
};

const TOP_KEYS = new Set(['scenarios', 'rigs', 'overrides', 'strategy', 'seeds', 'findBudget', 'passBudget']);
const SETTING_KEYS = new Set(['strategy', 'seeds', 'findBudget', 'passBudget']);

/**
 * Checks a config's shape; the first problem is thrown as `<file>: <field>: <what is wrong>`,
 * so a typo never silently falls back to a default.
 */
export function validateConfig(doc: unknown, file: string): RaceboxConfig {
  const fail = (field: string, msg: string): never => {
    throw new ConfigError(`${file}: ${field ? `${field}: ` : ''}${msg}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('', 'the config must be an object (export default defineConfig({...}))');
  const c = doc as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!TOP_KEYS.has(key)) fail(key, `unknown field (fields: ${[...TOP_KEYS].join(', ')})`);
  }
  for (const key of ['scenarios', 'rigs'] as const) {
    const v = c[key];
    if (v === undefined) continue;
    if (!Array.isArray(v)) fail(key, `must be a list of ${key === 'scenarios' ? 'string globs' : 'rig file paths'}`);
    (v as unknown[]).forEach((g, i) => {
      if (typeof g !== 'string' || g.trim() === '') fail(`${key}[${i}]`, key === 'scenarios' ? 'must be a string glob' : 'must be a path to a rig .json file');
    });
  }
  validateSettings(c, '', fail);
  if (c.overrides !== undefined) {
    if (typeof c.overrides !== 'object' || c.overrides === null || Array.isArray(c.overrides)) fail('overrides', "must be an object keyed by scenario id ({ 'family/name': { passBudget: 5000 } })");
    for (const [id, o] of Object.entries(c.overrides as Record<string, unknown>)) {
      const field = `overrides['${id}']`;
      if (typeof o !== 'object' || o === null || Array.isArray(o)) fail(field, 'must be an object ({ strategy?, seeds?, findBudget?, passBudget? })');
      for (const key of Object.keys(o as object)) {
        if (!SETTING_KEYS.has(key)) fail(`${field}.${key}`, `unknown field (fields: ${[...SETTING_KEYS].join(', ')})`);
      }
      validateSettings(o as Record<string, unknown>, `${field}.`, fail);
    }
  }
  return c as RaceboxConfig;
}

function validateSettings(s: Record<string, unknown>, prefix: string, fail: (field: string, msg: string) => never): void {
  if (s.strategy !== undefined && !(REGRESS_STRATEGIES as readonly unknown[]).includes(s.strategy)) {
    fail(`${prefix}strategy`, `must be one of ${REGRESS_STRATEGIES.join(', ')} (got ${JSON.stringify(s.strategy)})`);
  }
  for (const [key, [min, max]] of Object.entries(SETTING_LIMITS)) {
    const v = s[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max)) {
      fail(`${prefix}${key}`, `must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
    }
  }
}
