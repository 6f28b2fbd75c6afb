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
