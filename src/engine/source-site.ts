/**
 * Where in a scenario's source a step happens: the first stack frame that is
 * not the box itself (machine, kernel, engine). Stacks are captured only when a
 * trace is recorded, so exploration pays nothing for it.
 */
export interface SourceSite {
  /** File name as the host reports it (a path in Node, a URL in a browser). */
  file: string;
  line: number;
  column: number;
}

const FRAME = /(?:\(|@|at )((?:file|https?|blob|data):[^\s)]*?|\/[^\s):]+?|[A-Za-z]:\\[^\s):]+?):(\d+):(\d+)\)?\s*$/;
const INTERNAL = /[\\/]src[\\/](machine|kernel|scenario|workers|cli)[\\/]|node:|node_modules|[\\/]bench[\\/]|[\\/]assets[\\/]/;
/**
 * Scenarios evaluated from source inside a browser worker (library ones under
 * this scheme, a user's as user-scenario.js): their frames are the scenario's
 * own lines, offset by the two header lines `new Function` adds.
 */
export const SCENARIO_URL_SCHEME = 'racebox-scenario:';
const EVALUATED = /^(racebox-scenario:.*|.*user-scenario\.js)$/;
const EVALUATED_FRAME = /(racebox-scenario:[^\s)]+|user-scenario\.js):(\d+):(\d+)\)?\s*$/;
/** The engine drives routines: frames below it belong to whoever called the engine, never to the scenario. */
const DRIVER = /[\\/]src[\\/]engine[\\/]/;

export function scenarioSite(stack: string | undefined): SourceSite | undefined {
  if (!stack) return undefined;
  const lines = stack.split('\n');
  for (const line of lines) {
    const e = EVALUATED_FRAME.exec(line.trim());
    if (e && EVALUATED.test(e[1]!)) {
      return { file: e[1]!.replace(SCENARIO_URL_SCHEME, ''), line: Math.max(1, Number(e[2]) - 2), column: Number(e[3]) };
    }
  }
  for (const line of lines) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    const file = m[1]!;
    if (DRIVER.test(file)) return undefined;
    if (INTERNAL.test(file)) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

export function formatSite(s: SourceSite): string {
  const name = s.file.replace(/^file:\/\//, '').split(/[\\/]/).pop() ?? s.file;
  return `${name.replace(/\?.*$/, '')}:${s.line}`;
}

/**
 * One frame of a step's call stack: a scenario frame names its file and line;
 * a kernel frame only its routine (in a browser the kernel is bundled, so its
 * lines are the bundle's, not the source's).
 */
export interface StackFrame {
  fn: string;
  file?: string;
  line?: number;
  column?: number;
}

const LOCATION = /^(.*):(\d+):(\d+)$/;

/**
 * The whole call stack of a captured yield, outermost first: the actor, the
 * helpers it delegates to with yield*, and the kernel routines in between
 * (those `isRoutine` names: bundled internals and the engine are left out).
 * Built only when a trace is recorded.
 */
export function callStack(stack: string | undefined, isRoutine: (name: string) => boolean): StackFrame[] {
  if (!stack) return [];
  const out: StackFrame[] = [];
  for (const raw of stack.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('at ')) continue;
    // `at NAME (LOCATION)` or `at LOCATION`; split by hand (no backtracking on a long bundle URL).
    const body = line.slice(3);
    const open = body.endsWith(')') ? body.indexOf(' (') : -1;
    const name = open >= 0 ? body.slice(0, open).replace(/^async /, '') : '';
    const loc = LOCATION.exec(open >= 0 ? body.slice(open + 2, -1) : body);
    if (!loc) continue;
    const file = loc[1]!;
    const fn = shortName(name);
    const evaluated = EVALUATED_FRAME.exec(line);
    if (evaluated && EVALUATED.test(evaluated[1]!)) {
      out.push({ fn: fn || '(anonymous)', file: evaluated[1]!.replace(SCENARIO_URL_SCHEME, ''), line: Math.max(1, Number(evaluated[2]) - 2), column: Number(evaluated[3]) });
      continue;
    }
    if (DRIVER.test(file)) break;
    if (INTERNAL.test(file) || /^https?:/.test(file)) {
      if (fn && isRoutine(fn) && out[out.length - 1]?.fn !== fn) out.push({ fn });
      continue;
    }
    out.push({ fn: fn || '(anonymous)', file, line: Number(loc[2]), column: Number(loc[3]) });
  }
  return out.reverse();
}

/** `Object.run` → `run`, `Kernel.KeAcquireSpinLock` → `KeAcquireSpinLock`. */
function shortName(name: string): string {
  const n = name.replace(/^new /, '').replace(/ \[as [^\]]+\]$/, '');
  const dot = n.lastIndexOf('.');
  return dot >= 0 ? n.slice(dot + 1) : n;
}
