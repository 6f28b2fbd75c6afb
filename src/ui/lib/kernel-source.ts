/// <reference types="vite/client" />
/**
 * The source of a kernel routine, for the source pane's "kernel routines"
 * view: the emulated kernel's own TypeScript, loaded only when asked for.
 */
const files = import.meta.glob<string>('/src/kernel/*.ts', { query: '?raw', import: 'default' });

export interface RoutineSource {
  file: string;
  /** Line of the routine's first line (its doc comment) in the file, 1-based. */
  firstLine: number;
  code: string;
  /** Lines (within `code`, 1-based) where the routine announces an operation of each kind (`OP_READ` …). */
  opLines: Map<string, number[]>;
}

const cache = new Map<string, Promise<RoutineSource | undefined>>();

export function kernelRoutineSource(name: string): Promise<RoutineSource | undefined> {
  let p = cache.get(name);
  if (!p) cache.set(name, (p = find(name)));
  return p;
}

async function find(name: string): Promise<RoutineSource | undefined> {
  const head = new RegExp(`^\\s*\\*?\\s*${name}\\s*\\(`);
  for (const [file, load] of Object.entries(files)) {
    const text = await load();
    if (!text.includes(name)) continue;
    const lines = text.split('\n');
    const at = lines.findIndex((l) => head.test(l));
    if (at < 0) continue;
    return extract(file, lines, at);
  }
  return undefined;
}

/** The routine from its doc comment to the closing brace at its own indentation. */
export function extract(file: string, lines: string[], at: number): RoutineSource {
  let start = at;
  while (start > 0 && /^\s*(\/\*\*|\*|\*\/)/.test(lines[start - 1]!) && !/^\s*\*\s*\w+\s*\(/.test(lines[start - 1]!)) start--;
  const indent = /^\s*/.exec(lines[at]!)![0];
  let end = at;
  for (let i = at + 1; i < lines.length; i++) {
    if (lines[i]!.startsWith(`${indent}}`) && !lines[i]!.startsWith(`${indent} `)) {
      end = i;
      break;
    }
  }
  const body = lines.slice(start, end + 1);
  const opLines = new Map<string, number[]>();
  body.forEach((l, i) => {
    for (const m of l.matchAll(/m\.at(?:Ordered)?\(OP_([A-Z]+)/g)) {
      const op = m[1]!.toLowerCase();
      (opLines.get(op) ?? opLines.set(op, []).get(op)!).push(i + 1);
    }
  });
  return { file: file.replace(/^\//, ''), firstLine: start + 1, code: body.map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n'), opLines };
}
