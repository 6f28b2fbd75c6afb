/**
 * A user's scenario, TypeScript source → a JavaScript module body the worker
 * can evaluate, with diagnostics that point at lines of the original source.
 * Pure functions, no DOM: called inside workers only (the explore worker to
 * run a user scenario, the editor's check worker as the user types).
 *
 * The output is CommonJS-style code (sucrase's `imports` transform) so that
 * `import ... from 'racebox'` resolves through the `require` handed to
 * evaluateModule, without blob URLs or an import map. Sucrase keeps line
 * numbers, so a line in an error is a line in the user's source.
 */
import { transform } from 'sucrase';

export interface Diagnostic {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
  severity: 'error' | 'warning';
  /** 'syntax' from the transpiler, 'scenario' from defineScenario, 'runtime' from evaluating the module. */
  source: 'syntax' | 'scenario' | 'runtime';
}

export interface TranspileResult {
  ok: boolean;
  code: string;
  diagnostics: Diagnostic[];
}

/** Modules a user scenario may import. */
export const ALLOWED_IMPORTS = ['racebox'];

export function transpileScenario(source: string, filename = 'scenario.ts'): TranspileResult {
  const diagnostics: Diagnostic[] = [];
  let code = '';
  try {
    code = transform(source, {
      transforms: filename.endsWith('.js') || filename.endsWith('.mjs') ? ['imports'] : ['typescript', 'imports'],
      filePath: filename,
      production: true,
    }).code;
  } catch (e) {
    const err = e as Error & { loc?: { line: number; column: number } };
    const line = err.loc?.line ?? 1;
    const column = (err.loc?.column ?? 0) + 1;
    diagnostics.push({ line, column, message: err.message.replace(/^Error transforming [^:]*: /, '').replace(/\s*\(\d+:\d+\)\s*$/, ''), severity: 'error', source: 'syntax' });
    return { ok: false, code: '', diagnostics };
  }
  const importRe = /^\s*import\s[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(importRe)) {
    const spec = m[1] ?? m[2]!;
    if (!ALLOWED_IMPORTS.includes(spec)) {
      const line = source.slice(0, m.index).split('\n').length;
      diagnostics.push({ line, column: 1, message: `'${spec}' cannot be imported here: a scenario imports only from 'racebox'`, severity: 'error', source: 'syntax' });
    }
  }
  return { ok: !diagnostics.some((d) => d.severity === 'error'), code, diagnostics };
}

/**
 * Evaluates transpiled code with `require` limited to `modules`; returns its
 * exports. Runtime errors carry the source line when the engine reports one.
 */
export function evaluateModule(code: string, modules: Record<string, unknown>, sourceURL = 'user-scenario.js'): Record<string, unknown> {
  const exports: Record<string, unknown> = {};
  const module = { exports };
  const require = (spec: string): unknown => {
    if (!(spec in modules)) throw new Error(`'${spec}' cannot be imported here: a scenario imports only from 'racebox'`);
    return modules[spec];
  };
  // The function wrapper adds two lines before the first line of code (V8's new Function header).
  const fn = new Function('require', 'exports', 'module', `${code}\n//# sourceURL=${sourceURL}`) as (
    r: typeof require,
    e: typeof exports,
    m: typeof module,
  ) => void;
  fn(require, exports, module);
  return module.exports;
}

/** Line (1-based) of a runtime error inside evaluateModule's code, from its stack, if present. */
export function runtimeErrorLine(e: unknown): number | undefined {
  const stack = (e as Error)?.stack ?? '';
  const m = /user-scenario\.js:(\d+):(\d+)/.exec(stack);
  if (!m) return undefined;
  // new Function bodies start after a two-line header: "function anonymous(...\n) {\n".
  return Math.max(1, Number(m[1]) - 2);
}

/**
 * Finds the line a defineScenario error is about: `scenario 'x': actor 'writer' needs ...`
 * points at the actor, `title must be ...` at the title field, and so on.
 */
export function locateScenarioError(message: string, source: string): number {
  const lines = source.split('\n');
  const find = (re: RegExp): number | undefined => {
    const i = lines.findIndex((l) => re.test(l));
    return i >= 0 ? i + 1 : undefined;
  };
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const actor = /actor '([^']+)'/.exec(message)?.[1];
  if (actor) return find(new RegExp(`^\\s*['"]?${esc(actor)}['"]?\\s*:`)) ?? find(/\bactors\s*:/) ?? 1;
  const invariant = /invariant '([^']+)'/.exec(message)?.[1];
  if (invariant) return find(new RegExp(esc(invariant))) ?? find(/\binvariants\s*:/) ?? 1;
  for (const field of ['id', 'title', 'description', 'family', 'setup', 'actors', 'version', 'expect']) {
    if (new RegExp(`(^|: )${field}\\b`).test(message.replace(/^scenario(?: '[^']*')?: /, ': '))) {
      return find(new RegExp(`^\\s*${field}\\s*[:(]`)) ?? find(/defineScenario\s*\(/) ?? 1;
    }
  }
  return find(/defineScenario\s*\(/) ?? 1;
}
