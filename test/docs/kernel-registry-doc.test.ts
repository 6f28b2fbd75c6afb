/**
 * docs/scenario-api.md agrees with the kernel registry (src/kernel/registry.ts): its generated
 * list names every member under its kind, and no reference table marks a routine `plain` or a
 * plain call `yield*`. RACEBOX_WRITE_DOCS=1 npx vitest run test/docs rewrites the list.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNEL_API, type KernelMember } from '../../src/kernel/registry.ts';

const DOC = join(import.meta.dirname, '../../docs/scenario-api.md');
const BEGIN = '<!-- kernel-registry:begin -->';
const END = '<!-- kernel-registry:end -->';

function names(members: KernelMember[]): string {
  return members.length === 0 ? '—' : members.map((m) => `\`${m.name}\``).join(', ');
}

/** The generated list: one row per kernel file, routines and plain members apart. */
function registryTable(): string {
  const families = [...new Set(KERNEL_API.map((m) => m.family))].sort((a, b) => (a === 'kernel' ? -1 : b === 'kernel' ? 1 : a.localeCompare(b)));
  const rows = families.map((f) => {
    const of = KERNEL_API.filter((m) => m.family === f);
    return `| ${f} | ${names(of.filter((m) => m.kind === 'routine'))} | ${names(of.filter((m) => m.kind === 'plain'))} |`;
  });
  return ['| Kernel file | `yield*` (routines: scheduling points) | plain (no `yield*`) |', '|---|---|---|', ...rows].join('\n');
}

describe('docs/scenario-api.md and the kernel registry', () => {
  const doc = readFileSync(DOC, 'utf8');

  it('holds the list generated from the registry, every member under its kind', () => {
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    expect(start, `${BEGIN} … ${END} in the doc`).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    const expected = `${BEGIN}\n${registryTable()}\n${END}`;
    const actual = doc.slice(start, end + END.length);
    if (actual !== expected && process.env.RACEBOX_WRITE_DOCS === '1') {
      writeFileSync(DOC, doc.slice(0, start) + expected + doc.slice(end + END.length));
      return;
    }
    expect(actual, 'the list is stale: RACEBOX_WRITE_DOCS=1 npx vitest run test/docs rewrites it').toBe(expected);
  });

  /** Rows of the reference tables (`| plain | \`Name(…)\` … |`): each call the signature cell names, with the row's kind. */
  const calls = [...doc.matchAll(/^\| (plain|`yield\*`) \| (.*?) \|/gm)].flatMap(([, call, cell]) =>
    [...cell!.matchAll(/(?:^|, )`([A-Za-z_]\w*)[(<]/g)].map((m) => ({ name: m[1]!, doc: call === 'plain' ? 'plain' : 'routine' })),
  );

  it('marks each call in the reference tables with its kind from the registry', () => {
    const kind = new Map(KERNEL_API.map((m) => [m.name, m.kind]));
    expect(calls.length).toBeGreaterThan(100);
    const wrong = calls.map((c) => ({ ...c, code: kind.get(c.name) })).filter((c) => c.doc !== c.code);
    expect(wrong).toEqual([]);
  });

  it('documents every routine of the registry in a reference table', () => {
    const documented = new Set(calls.filter((c) => c.doc === 'routine').map((c) => c.name));
    const missing = KERNEL_API.filter((m) => m.kind === 'routine' && !documented.has(m.name)).map((m) => m.name);
    expect(missing).toEqual([]);
  });
});
