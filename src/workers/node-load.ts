/**
 * Finding rigs and scenarios on disk in Node (the CLI, and the worker threads
 * that load library scenarios by id): presets and rigs/<id>.json,
 * scenarios/<family>/<name>.ts, or any file path a user gives.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ScenarioError } from '../machine/bugcheck.ts';
import { presetRig } from '../machine/presets.ts';
import { parseRig, RigError, type Rig } from '../machine/rig.ts';
import { defineScenario, type Scenario, type ScenarioDefinition } from '../scenario/define.ts';
import { checkScenarioSource, scenarioImports } from '../scenario/load-source.ts';
import { fileLimitBytes } from './node-limits.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SCENARIO_DIR = join(ROOT, 'scenarios');
export const RIG_DIR = join(ROOT, 'rigs');

/** Bad input from the user: the CLI prints the message on one line and exits 2. */
export class InputError extends Error {}

/** A scenario file refused by the syntax-tree check: bad input that `run --json` also reports as outcome 'error'. */
export class ScenarioCheckError extends InputError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
  }
}

const SCENARIO_EXT = new Set(['.ts', '.mts', '.js', '.mjs']);

export function looksLikePath(ref: string): boolean {
  return SCENARIO_EXT.has(extname(ref)) || ref.endsWith('.json') || ref.startsWith('.') || isAbsolute(ref);
}

export function loadRig(ref: string): Rig {
  if (!looksLikePath(ref)) {
    const p = presetRig(ref);
    if (p) return p;
    const file = join(RIG_DIR, `${ref}.json`);
    if (!existsSync(file)) {
      throw new InputError(`unknown rig '${ref}' (presets: ${listRigIds().join(', ')}; or give a path to a rig .json file)`);
    }
    return readRigFile(file);
  }
  const file = resolve(ref);
  if (!existsSync(file)) throw new InputError(`rig file not found: ${ref}`);
  return readRigFile(file);
}

function readRigFile(file: string): Rig {
  checkInputFile(file, 'rig');
  try {
    return parseRig(readFileSync(file, 'utf8'), relative(process.cwd(), file) || file);
  } catch (e) {
    if (e instanceof RigError) throw new InputError(`malformed rig ${e.message}`);
    throw new InputError(`cannot read rig file ${file}: ${(e as Error).message}`);
  }
}

/**
 * A rig or scenario path must name a regular file under the size limit: a
 * FIFO would block the read forever and /dev/zero would never end it.
 * Checked with stat before anything reads the file.
 */
export function checkInputFile(file: string, what: 'rig' | 'scenario'): void {
  const rel = relative(process.cwd(), file);
  const shown = rel === '' || rel.startsWith('..') ? file : rel;
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new InputError(`cannot read ${what} file ${shown}: ${(e as Error).message}`);
  }
  if (!st.isFile()) {
    const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
    throw new InputError(`${what} file ${shown} is ${kind}, not a regular file`);
  }
  const limit = fileLimitBytes();
  if (st.size > limit) {
    throw new InputError(`${what} file ${shown} is ${st.size} bytes, over the limit of ${limit} bytes (RACEBOX_FILE_KB changes it)`);
  }
}

export function listRigIds(): string[] {
  return readdirSync(RIG_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

export function listRigs(): Rig[] {
  return listRigIds().map((id) => loadRig(id));
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (SCENARIO_EXT.has(extname(name)) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

export function scenarioFiles(): string[] {
  return existsSync(SCENARIO_DIR) ? walk(SCENARIO_DIR) : [];
}

/**
 * Outside a `"type": "module"` package (a user's scenario in any folder) the
 * TypeScript loader would compile a .ts file as CommonJS, and its
 * `import ... from 'racebox'` then fails. Scenario files are ES modules by
 * contract, so TypeScript files outside the repository are loaded as such.
 */
const ESM_TS_HOOK = `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.format === 'commonjs' && r.url.startsWith('file:') && !r.url.includes('/node_modules/') && /\\.(ts|tsx|mts)$/.test(new URL(r.url).pathname)) return { ...r, format: 'module' };
  return r;
}`;
let esmHookRegistered = false;

function loadOutsideRepoAsEsm(file: string): void {
  if (esmHookRegistered || !relative(ROOT, file).startsWith('..') || typeof register !== 'function') return;
  esmHookRegistered = true;
  register(`data:text/javascript,${encodeURIComponent(ESM_TS_HOOK)}`, import.meta.url);
}

/**
 * A path to a scenario file may end in a query (`lock-loop.ts?kind=ke&rounds=500`): a parameterised file
 * reads it from its import.meta.url (bench/fixtures/lock-loop.ts). Scenario ids have no `?`.
 */
export function splitScenarioQuery(ref: string): { path: string; query: string } {
  const i = ref.indexOf('?');
  return i < 0 ? { path: ref, query: '' } : { path: ref.slice(0, i), query: ref.slice(i) };
}


/** A relative import's file, as tsx would find it (the specifier as written, or with a script extension). */
function resolveRelative(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  const candidates = [base, ...[...SCENARIO_EXT].map((e) => base + e), base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts')];
  return candidates.find((c) => SCENARIO_EXT.has(extname(c)) && existsSync(c) && statSync(c).isFile());
}

/**
 * The syntax-tree check (scenario/load-source.ts) of a scenario file and of the files it imports
 * by relative path, before Node runs any of them: a kernel routine called without yield* (and the
 * other mistakes that make a scenario test nothing) is bad input, named by file:line:column.
 */
/** The syntax-tree check of a scenario file given by path (and of what it imports), without running it. */
export function checkScenarioPath(ref: string): void {
  const file = resolve(splitScenarioQuery(ref).path);
  if (existsSync(file) && statSync(file).isFile()) checkScenarioFiles(file);
}

function checkScenarioFiles(file: string, seen = new Set<string>()): void {
  if (seen.has(file)) return;
  seen.add(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read scenario ${relative(process.cwd(), file) || file}: ${(e as Error).message}`);
  }
  const d = checkScenarioSource(text, file).find((x) => x.severity === 'error');
  // A syntax error is left to the import below, which reports it as it always has.
  if (d && d.source === 'check') throw new ScenarioCheckError(relative(process.cwd(), file) || file, d.line, d.column, d.message);
  for (const spec of scenarioImports(text, file)) {
    if (!spec.startsWith('./') && !spec.startsWith('../')) continue;
    const dep = resolveRelative(file, spec);
    if (dep) checkScenarioFiles(dep, seen);
  }
}

export async function loadScenarioFile(file: string, query = ''): Promise<Scenario> {
  let mod: { default?: unknown };
  checkScenarioFiles(file);
  loadOutsideRepoAsEsm(file);
  try {
    mod = (await import(pathToFileURL(file).href + query)) as { default?: unknown };
  } catch (e) {
    if (e instanceof ScenarioError) throw new InputError(e.message);
    const err = e as Error;
    // The first line of a transform error is only "Transform failed with 1 error:"; the reason follows it.
    const reason = err.message.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' ');
    throw new InputError(`cannot load scenario ${relative(process.cwd(), file) || file}: ${err.name}: ${reason}`);
  }
  if (mod.default === undefined) {
    throw new InputError(`${relative(process.cwd(), file) || file} has no default export (export default defineScenario({...}))`);
  }
  try {
    const s = defineScenario(mod.default as ScenarioDefinition<unknown>);
    // The source is a reference that loads this scenario again (workers get it): the query with the file.
    return { ...s, source: file + query };
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

/** A scenario by id (scenarios/<id>.ts) or by a path to a .ts/.js file anywhere. */
export async function loadScenario(ref: string): Promise<Scenario> {
  const { path, query } = splitScenarioQuery(ref);
  if (looksLikePath(path)) {
    const file = resolve(path);
    if (!existsSync(file)) throw new InputError(`scenario file not found: ${path}`);
    checkInputFile(file, 'scenario');
    return loadScenarioFile(file, query);
  }
  for (const ext of ['.ts', '.js']) {
    const file = join(SCENARIO_DIR, `${ref}${ext}`);
    if (existsSync(file)) {
      const s = await loadScenarioFile(file);
      if (s.id === ref) return s;
    }
  }
  for (const file of scenarioFiles()) {
    const s = await loadScenarioFile(file);
    if (s.id === ref) return s;
  }
  throw new InputError(`unknown scenario '${ref}' (racebox list shows them; or give a path to a .ts/.js scenario file)`);
}

export async function loadAllScenarios(): Promise<Scenario[]> {
  const out: Scenario[] = [];
  const seen = new Map<string, string>();
  for (const file of scenarioFiles()) {
    const s = await loadScenarioFile(file);
    const prev = seen.get(s.id);
    if (prev) throw new InputError(`scenario id '${s.id}' is used by both ${prev} and ${file}`);
    seen.set(s.id, file);
    out.push(s);
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
