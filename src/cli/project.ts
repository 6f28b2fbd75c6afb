/**
 * What `racebox regress` runs: a team's config (racebox.config.ts/.json, found in the working
 * folder or its parents), the paths, folders and globs on the command line, or the library.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { glob, isDynamicPattern } from 'tinyglobby';
import { PRESET_RIGS } from '../machine/presets.ts';
import type { Rig } from '../machine/rig.ts';
import type { Scenario } from '../scenario/define.ts';
import { unknownExpectRig } from '../scenario/matrix.ts';
import { ConfigError, DEFAULT_SCENARIO_GLOBS, validateConfig, type RaceboxConfig } from '../scenario/config.ts';
import { InputError, loadRig, loadScenarioFile, ROOT, scenarioFiles } from '../workers/node-load.ts';

export const CONFIG_NAMES = ['racebox.config.ts', 'racebox.config.mts', 'racebox.config.js', 'racebox.config.mjs', 'racebox.config.json'];

const SCENARIO_GLOB_EXT = '{ts,mts,js,mjs}';
const IGNORE = ['**/node_modules/**', '**/*.d.ts', '**/racebox.config.*'];

export interface ScenarioFile {
  file: string;
  /** Found by a folder or a glob rather than named: a module without a default export there is a helper, not a scenario. */
  matched: boolean;
}

export interface Project {
  configFile?: string;
  config?: RaceboxConfig;
  /** The library (scenarios/ of this repository): its scenarios are replayed by id. */
  library: boolean;
  files: ScenarioFile[];
  /** The presets, then the config's rig files. */
  rigs: Rig[];
  /** How a replay command names each rig: a preset's id, or the rig file's path. */
  rigRefs: Map<string, string>;
}

/** The nearest config file, from `dir` up to the file system root. */
export function findConfig(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    for (const name of CONFIG_NAMES) {
      const f = join(d, name);
      if (existsSync(f)) return f;
    }
    if (dirname(d) === d) return undefined;
  }
}

/** Where a file is, as the user sees it: relative to the working folder when inside it. */
export function shown(file: string): string {
  const r = relative(process.cwd(), file);
  return r === '' || r.startsWith('..') || isAbsolute(r) ? file : r;
}

export async function loadConfig(file: string): Promise<RaceboxConfig> {
  const name = shown(file);
  let doc: unknown;
  if (file.endsWith('.json')) {
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new InputError(`${name}: not valid JSON: ${(e as Error).message}`);
    }
  } else {
    try {
      doc = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
    } catch (e) {
      const reason = (e as Error).message.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' ');
      throw new InputError(`cannot load ${name}: ${(e as Error).name}: ${reason}`);
    }
    if (doc === undefined) throw new InputError(`${name} has no default export (export default defineConfig({...}))`);
  }
  try {
    return validateConfig(doc, name);
  } catch (e) {
    if (e instanceof ConfigError) throw new InputError(e.message);
    throw e;
  }
}

async function expandGlob(pattern: string, cwd: string, where: string): Promise<string[]> {
  const files = await glob(pattern, { cwd, absolute: true, ignore: IGNORE, onlyFiles: true });
  if (files.length === 0) throw new InputError(`${where}: '${pattern}' matches no file`);
  return files.sort();
}

/** Scenario files named by command-line arguments: files, folders (searched recursively) or globs. */
export async function filesOfArgs(args: string[], cwd: string): Promise<ScenarioFile[]> {
  const out: ScenarioFile[] = [];
  for (const a of args) {
    const p = resolve(cwd, a);
    if (existsSync(p)) {
      if (statSync(p).isDirectory()) {
        const files = await glob(`**/*.${SCENARIO_GLOB_EXT}`, { cwd: p, absolute: true, ignore: IGNORE, onlyFiles: true });
        if (files.length === 0) throw new InputError(`folder '${a}' holds no scenario file (.ts, .mts, .js, .mjs)`);
        out.push(...files.sort().map((file) => ({ file, matched: true })));
      } else {
        out.push({ file: p, matched: false });
      }
    } else if (isDynamicPattern(a)) {
      out.push(...(await expandGlob(a, cwd, 'racebox regress')).map((file) => ({ file, matched: true })));
    } else {
      throw new InputError(`no such file or folder: ${a}`);
    }
  }
  return dedupe(out);
}

function dedupe(files: ScenarioFile[]): ScenarioFile[] {
  const seen = new Set<string>();
  return files.filter((f) => !seen.has(f.file) && seen.add(f.file) !== undefined);
}

/**
 * The project a regression runs: the config given with --config, or found from the working
 * folder; the scenario files from the arguments, else the config's globs, else the library.
 */
export async function loadProject(args: string[], cwd: string, configOption?: string): Promise<Project> {
  let configFile: string | undefined;
  if (configOption !== undefined) {
    configFile = resolve(cwd, configOption);
    if (!existsSync(configFile)) throw new InputError(`config file not found: ${configOption}`);
  } else {
    configFile = findConfig(cwd);
  }
  const config = configFile ? await loadConfig(configFile) : undefined;
  const rigs: Rig[] = [...PRESET_RIGS];
  const rigRefs = new Map(rigs.map((r) => [r.id, r.id]));
  if (configFile && config?.rigs) {
    const name = shown(configFile);
    for (const [i, ref] of config.rigs.entries()) {
      const file = resolve(dirname(configFile), ref);
      let rig: Rig;
      try {
        if (!existsSync(file)) throw new InputError(`rig file not found: ${ref}`);
        rig = loadRig(file);
      } catch (e) {
        if (e instanceof InputError) throw new InputError(`${name}: rigs[${i}]: ${e.message}`);
        throw e;
      }
      if (rigRefs.has(rig.id)) throw new InputError(`${name}: rigs[${i}]: rig id '${rig.id}' is already taken (${rigRefs.get(rig.id)})`);
      rigs.push(rig);
      rigRefs.set(rig.id, shown(file));
    }
  }
  let files: ScenarioFile[];
  let library = false;
  if (args.length > 0) {
    files = await filesOfArgs(args, cwd);
  } else if (configFile && config) {
    const name = shown(configFile);
    const globs = config.scenarios ?? DEFAULT_SCENARIO_GLOBS;
    files = [];
    for (const [i, g] of globs.entries()) {
      const field = config.scenarios ? `${name}: scenarios[${i}]` : `${name}: scenarios (default ${g})`;
      files.push(...(await expandGlob(g, dirname(configFile), field)).map((file) => ({ file, matched: true })));
    }
    files = dedupe(files);
  } else {
    files = scenarioFiles().map((file) => ({ file, matched: false }));
    library = true;
  }
  return { ...(configFile ? { configFile } : {}), ...(config ? { config } : {}), library, files, rigs, rigRefs };
}

/** Is a file part of this repository's scenario library (so that its id alone replays it)? */
export function inLibrary(file: string): boolean {
  return !relative(join(ROOT, 'scenarios'), file).startsWith('..');
}

export interface LoadedScenarios {
  scenarios: { scenario: Scenario; file: string }[];
  /** Files that are bad input: `scenario` is the id when it loaded, else the file as shown. */
  broken: { scenario: string; file: string; reason: string }[];
}

/**
 * Loads every scenario file; one that does not load, repeats an id or names an unknown rig in
 * its `expect` is reported as broken and does not stop the others.
 */
export async function loadScenarios(files: ScenarioFile[], rigIds: ReadonlySet<string>, rigs: readonly Rig[]): Promise<LoadedScenarios> {
  const scenarios: LoadedScenarios['scenarios'] = [];
  const broken: LoadedScenarios['broken'] = [];
  const seen = new Map<string, string>();
  for (const { file, matched } of files) {
    if (matched && (await isHelper(file))) continue;
    let s: Scenario;
    try {
      s = await loadScenarioFile(file);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      broken.push({ scenario: shown(file), file, reason: e.message });
      continue;
    }
    const prev = seen.get(s.id);
    if (prev !== undefined) {
      broken.push({ scenario: s.id, file, reason: `${shown(file)}: scenario id '${s.id}' is already used by ${prev}` });
      continue;
    }
    seen.set(s.id, shown(file));
    const unknown = unknownExpectRig(s, rigIds);
    if (unknown) {
      broken.push({ scenario: s.id, file, reason: `${shown(file)}: ${unknown.field}: unknown rig '${unknown.rig}' (rigs: ${rigs.map((r) => r.id).join(', ')}; list more in the config's rigs)` });
      continue;
    }
    scenarios.push({ scenario: s, file });
  }
  return { scenarios: scenarios.sort((a, b) => a.scenario.id.localeCompare(b.scenario.id)), broken };
}

/** In a folder or a glob, a module that loads but has no default export is a helper the scenarios import. */
async function isHelper(file: string): Promise<boolean> {
  try {
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    return mod.default === undefined;
  } catch {
    return false; // loadScenarioFile reports why it does not load
  }
}
