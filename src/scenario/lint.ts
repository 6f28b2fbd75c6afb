/**
 * Catches the one mistake the scenario API cannot refuse at run time: a
 * kernel routine that is a scheduling point is a generator, and calling it
 * without `yield*` only creates the generator — the lock is never taken, the
 * write never happens, and the run passes for the wrong reason. The source of
 * each generator actor (and of setup) is scanned once, when the scenario is
 * defined, for such a call standing as a statement or assigned to a variable.
 * A call inside an expression (`yield* (c ? k.A() : k.B())`, a callback
 * `(k) => k.InterlockedIncrement(p)` that returns the routine) is left alone.
 */
import { Kernel } from '../kernel/kernel.ts';

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor as FunctionConstructor;

let routines: ReadonlySet<string> | null = null;

/** Names of the kernel API that are generators (called with yield*). */
function kernelRoutines(): ReadonlySet<string> {
  if (routines === null) {
    const names = new Set<string>();
    for (const name of Object.getOwnPropertyNames(Kernel.prototype)) {
      const d = Object.getOwnPropertyDescriptor(Kernel.prototype, name);
      if (d && typeof d.value === 'function' && d.value instanceof GeneratorFunction) names.add(name);
    }
    routines = names;
  }
  return routines;
}

export function isGeneratorFunction(fn: unknown): boolean {
  return fn instanceof GeneratorFunction;
}

/** Comments and string contents blanked out, keeping every other character where it was. */
function codeOnly(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, (m) =>
    m.startsWith('/') ? m.replace(/[^\n]/g, ' ') : m[0] + m.slice(1, -1).replace(/[^\n]/g, ' ') + m[m.length - 1],
  );
}

/** The first parameter's name of a function's source (`*run(k, s)`, `function* (k)`, `(k) =>`, `k =>`). */
function firstParam(src: string): string | null {
  const arrow = /^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  if (arrow) return arrow[1]!;
  const open = src.indexOf('(');
  if (open < 0) return null;
  const m = /^\s*([A-Za-z_$][\w$]*)/.exec(src.slice(open + 1));
  return m ? m[1]! : null;
}

export interface MissingYieldStar {
  /** The kernel parameter's name in the function (usually k). */
  k: string;
  routine: string;
  /** The source line of the call, trimmed. */
  line: string;
}

/** The first call of a kernel routine without `yield*` in fn's source, or null. */
export function findMissingYieldStar(fn: (...args: never[]) => unknown): MissingYieldStar | null {
  const raw = Function.prototype.toString.call(fn);
  const k = firstParam(raw);
  if (k === null) return null;
  const src = codeOnly(raw);
  const names = kernelRoutines();
  const escaped = k.replace(/\$/g, '\\$');
  // A statement start (line start, ';', '{', '}', the ')' of an if/for/while head, else) or a plain
  // assignment '=' (not '==', '<=', '=>').
  const re = new RegExp(`(?:^|[;{})]|\\belse\\b|(?<![=!<>])=(?![=>]))\\s*${escaped}\\s*\\.\\s*([A-Za-z_$][\\w$]*)\\s*\\(`, 'gm');
  for (let m = re.exec(src); m !== null; m = re.exec(src)) {
    const routine = m[1]!;
    if (!names.has(routine)) continue;
    const at = m.index + m[0].length;
    const lineStart = raw.lastIndexOf('\n', at) + 1;
    const lineEnd = raw.indexOf('\n', at);
    return { k, routine, line: raw.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).trim() };
  }
  return null;
}
