import { describe, expect, it } from 'vitest';
import { twinImport, twinSource } from '../../src/engine/free/twin-transform.ts';

const src = (lines: string[]): string => lines.join('\n');

describe('twinSource: only generator stars and yield keywords change', () => {
  it('leaves yield in strings, template literals, comments, regular expressions and identifiers alone', () => {
    const input = src([
      "const id = 'audit/yield-test';",
      'const d = "a yield* b";',
      'let yieldCount = 0, yielded = { yielded: 1 };',
      '// yield* here is a comment',
      '/* yield m.at(1) and function* g() */',
      'const re = /yield\\s*\\*/g;',
      'function* g(k, s) {',
      '  const t = `yield ${yield* k.A(`yield* ${yield k.at(1)}`)} yield`;',
      '  s.yielded = yieldCount + yielded.yielded; // yield',
      '  return re.test(t) ? "yield" : yield* k.B();',
      '}',
    ]);
    expect(twinSource(input)).toBe(src([
      "const id = 'audit/yield-test';",
      'const d = "a yield* b";',
      'let yieldCount = 0, yielded = { yielded: 1 };',
      '// yield* here is a comment',
      '/* yield m.at(1) and function* g() */',
      'const re = /yield\\s*\\*/g;',
      'function g(k, s) {',
      '  const t = `yield ${k.A(`yield* ${k.at(1)}`)} yield`;',
      '  s.yielded = yieldCount + yielded.yielded; // yield',
      '  return re.test(t) ? "yield" : k.B();',
      '}',
    ]));
  });

  it('turns generator declarations, expressions and methods (object literal, class, static, computed) into plain functions', () => {
    const input = src([
      'function* a() { yield* b(); }',
      'function *b() { yield 1; }',
      'function/* c */*c() {}',
      'const e = function* () { yield* a(); };',
      'const f = function*named() { yield; };',
      'const o = { *m(k) { yield* k.X(); }, * n() {}, *[key]() {}, async *ag() { yield 1; } };',
      'class C { *m() { yield* a(); } static *s() { yield* this.m(); } static*t(){} }',
      'function*min(k){return yield*k.X()}',
      'const mul = 2 * 3;',
    ]);
    expect(twinSource(input)).toBe(src([
      'function a() { b(); }',
      'function b() { 1; }',
      'function/* c */c() {}',
      'const e = function () { a(); };',
      'const f = function named() { void 0; };',
      'const o = { m(k) { k.X(); }, n() {}, [key]() {}, async *ag() { yield 1; } };',
      'class C { m() { a(); } static s() { this.m(); } static t(){} }',
      'function min(k){return k.X()}',
      'const mul = 2 * 3;',
    ]));
  });

  it('keeps the meaning of yield* with parenthesised, conditional and line-broken operands', () => {
    const input = src([
      'function* g(k, c) {',
      '  const a = yield* (c ? k.A() : k.B());',
      '  const b = yield* c ? k.A() : k.B();',
      '  while (!(yield* k.Try())) yield m.at(2);',
      '  const n = (yield* k.Read()) + 1;',
      '  return yield* /* why */',
      '    k.Last();',
      '}',
      'function* h(k) { yield {}; yield function () {}; if (k) yield* [k]; }',
      'function* i(k) {',
      '  let s = k',
      '  yield [s]',
      '  s = k',
      '  yield* (k.A())',
      '  yield*',
      '    k.B()',
      '}',
    ]);
    expect(twinSource(input)).toBe(src([
      'function g(k, c) {',
      '  const a = (c ? k.A() : k.B());',
      '  const b = c ? k.A() : k.B();',
      '  while (!(k.Try())) m.at(2);',
      '  const n = (k.Read()) + 1;',
      '  return (/* why */',
      '    k.Last());',
      '}',
      'function h(k) { void ({}); void (function () {}); if (k) void ([k]); }',
      'function i(k) {',
      '  let s = k',
      '  void ([s])',
      '  s = k',
      '  void ((k.A()))',
      '  void (',
      '    k.B())',
      '}',
    ]));
  });

  it('rewrites module specifiers of imports, re-exports and dynamic imports as asked, and only those', () => {
    const input = src([
      "import { a } from './a.ts';",
      "import b from 'racebox';",
      "export { c } from '../c.ts';",
      "export * from './d.ts';",
      "const e = await import('./e.ts');",
      "const s = './f.ts';",
    ]);
    expect(twinSource(input, (spec) => (spec.startsWith('.') ? `${spec}?twin` : undefined))).toBe(src([
      'import { a } from "./a.ts?twin";',
      "import b from 'racebox';",
      'export { c } from "../c.ts?twin";',
      'export * from "./d.ts?twin";',
      'const e = await import("./e.ts?twin");',
      "const s = './f.ts';",
    ]));
  });

  it('twins relative imports of kernel and scenario code, not the rest of src', () => {
    const root = 'file:///repo/src/';
    const kernel = 'file:///repo/src/kernel/kernel.ts';
    expect(twinImport('./spinlock.ts', kernel, root)).toBe('./spinlock.ts?twin');
    expect(twinImport('../machine/machine.ts', kernel, root)).toBeUndefined();
    expect(twinImport('../engine/outcome.ts', kernel, root)).toBeUndefined();
    expect(twinImport('./helpers.ts', 'file:///repo/bench/fixtures/lock-loop.ts?kind=ke', root)).toBe('./helpers.ts?twin');
    expect(twinImport('./lib.ts', 'file:///home/u/src/scenario.ts', root)).toBe('./lib.ts?twin');
    expect(twinImport('racebox', kernel, root)).toBeUndefined();
    expect(twinImport('./data.json', kernel, root)).toBeUndefined();
  });

  it('twins the tsx output of a real scenario to code that parses', async () => {
    const { readFileSync } = await import('node:fs');
    const { transform } = await import('esbuild');
    const ts = readFileSync(new URL('../../scenarios/spinlock/irql-as-lock.ts', import.meta.url), 'utf8');
    const js = (await transform(ts, { loader: 'ts', format: 'esm', minify: true, keepNames: true })).code;
    const twin = twinSource(js);
    expect(twin).not.toMatch(/\byield\b|function\s*\*/);
    expect(twin).toContain('"spinlock/irql-as-lock"');
    expect(() => twinSource(twin)).not.toThrow();
  });
});
