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
const INTERNAL = /[\\/]src[\\/](machine|kernel|scenario|workers|cli)[\\/]|node:|node_modules|[\\/]bench[\\/]/;
/** The engine drives routines: frames below it belong to whoever called the engine, never to the scenario. */
const DRIVER = /[\\/]src[\\/]engine[\\/]/;

export function scenarioSite(stack: string | undefined): SourceSite | undefined {
  if (!stack) return undefined;
  for (const line of stack.split('\n')) {
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
