/**
 * Loading a scenario from its source text, as a pure transform shared by the CLI (before it
 * imports a file), the browser editor's check worker and the workers that run a user's scenario:
 *
 * - transpileScenario: TypeScript → a JavaScript module body a worker can evaluate, with
 *   diagnostics that point at lines of the original source;
 * - checkScenarioSource: the syntax-tree check of check-source.ts (forgotten yield*, yield of a
 *   value, k[…], async), located in the original source;
 * - prepareScenarioSource: both, for code that will be evaluated with evaluateModule.
 *
 * The evaluated output is CommonJS-style code (sucrase's `imports` transform) so that
 * `import ... from 'racebox'` resolves through the `require` handed to evaluateModule, without
 * blob URLs or an import map. Sucrase keeps line numbers, so a line in an error is a line in the
 * user's source.
 */
import { transform } from 'sucrase';
import { checkScenarioCode, importedSpecifiers } from './check-source.ts';

export interface Diagnostic {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
  severity: 'error' | 'warning';
  /**
   * 'syntax' from the transpiler, 'check' from the syntax-tree check (check-source.ts), 'scenario'
   * from defineScenario, 'runtime' from evaluating the module or a trial run.
   */
  source: 'syntax' | 'check' | 'scenario' | 'runtime';
}

export interface TranspileResult {
  ok: boolean;
  code: string;
  diagnostics: Diagnostic[];
}

/** Modules a user scenario may import. */
export const ALLOWED_IMPORTS = ['racebox'];

function syntaxDiagnostic(e: unknown): Diagnostic {
  const err = e as Error & { loc?: { line: number; column: number } };
  const line = err.loc?.line ?? 1;
  const column = (err.loc?.column ?? 0) + 1;
  return { line, column, message: err.message.replace(/^Error transforming [^:]*: /, '').replace(/\s*\(\d+:\d+\)\s*$/, ''), severity: 'error', source: 'syntax' };
}

export function transpileScenario(source: string, filename = 'scenario.ts'): TranspileResult {
  const diagnostics: Diagnostic[] = [];
  let code = '';
  try {
    code = transform(source, {
      transforms: isJavaScript(filename) ? ['imports'] : ['typescript', 'imports'],
      filePath: filename,
      production: true,
    }).code;
  } catch (e) {
    diagnostics.push(syntaxDiagnostic(e));
    return { ok: false, code: '', diagnostics };
  }
  for (const i of importedSpecifiers(withoutTypes(source, filename))) {
    if (!ALLOWED_IMPORTS.includes(i.specifier)) {
      diagnostics.push({ line: i.line, column: i.column, message: `'${i.specifier}' cannot be imported here: a scenario imports only from 'racebox'`, severity: 'error', source: 'syntax' });
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
  // The engine names an actor by its context kind: "in thread 'worker'", "dpc 'completion' yielded …".
  const actor = /(?:actor|thread|dpc|isr|interrupt) '([^']+)'/.exec(message)?.[1];
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

function isJavaScript(filename: string): boolean {
  return /\.(c|m)?js$/.test(filename);
}

/** Types removed, imports kept: the text has the source's lines (sucrase keeps them). Throws on a syntax error. */
function withoutTypes(source: string, filename: string): string {
  return isJavaScript(filename) ? source : transform(source, { transforms: ['typescript'], filePath: filename, production: true, keepUnusedImports: true }).code;
}

/** The modules a scenario source imports (specifiers as written); none when it does not parse. */
export function scenarioImports(source: string, filename = 'scenario.ts'): string[] {
  try {
    return importedSpecifiers(withoutTypes(source, filename)).map((i) => i.specifier);
  } catch {
    return [];
  }
}

/**
 * The syntax-tree check of a scenario module's source (TypeScript or JavaScript): every forgotten
 * yield*, yield of a value, k[…] and async function, with its line and column in `source`.
 * A source that does not transpile gives its syntax error instead.
 */
export function checkScenarioSource(source: string, filename = 'scenario.ts'): Diagnostic[] {
  let js: string;
  try {
    js = withoutTypes(source, filename);
  } catch (e) {
    return [syntaxDiagnostic(e)];
  }
  const lines = source.split('\n');
  return checkScenarioCode(js).map((p) => {
    // Types removed on a line move what follows them: find the problem's text again in the original line.
    const original = lines[p.line - 1] ?? '';
    const anchor = p.anchor.split('\n')[0]!;
    const at = anchor === '' ? -1 : original.indexOf(anchor);
    const column = at >= 0 && original.indexOf(anchor, at + 1) < 0 ? at + 1 : p.column;
    return { line: p.line, column, message: p.message, severity: 'error' as const, source: 'check' as const };
  });
}

export interface PreparedScenario {
  /** The module body for evaluateModule ('' when it did not transpile). */
  code: string;
  diagnostics: Diagnostic[];
  /** No error among the diagnostics: the code may be evaluated. */
  ok: boolean;
}

/** Transpile and check a user's scenario (imports limited to 'racebox'): what a worker evaluates. */
export function prepareScenarioSource(source: string, filename = 'scenario.ts'): PreparedScenario {
  const t = transpileScenario(source, filename);
  if (t.code === '') return { code: '', diagnostics: t.diagnostics, ok: false };
  const diagnostics = [...t.diagnostics, ...checkScenarioSource(source, filename)].sort((a, b) => a.line - b.line || a.column - b.column);
  return { code: t.code, diagnostics, ok: !diagnostics.some((d) => d.severity === 'error') };
}

/** `file:line:col: message` of the first error, for a one-line report. */
export function firstError(diagnostics: Diagnostic[], filename: string): string | undefined {
  const d = diagnostics.find((x) => x.severity === 'error');
  return d ? `${filename}:${d.line}:${d.column}: ${d.message}` : undefined;
}
