/**
 * Plain-function twins of kernel and scenario modules for free-run (DESIGN.md
 * section 3): the same JavaScript with every generator turned into a plain
 * function, `yield m.at(...)` into the call `m.at(...)` (the free-run
 * machine's scheduling point) and `yield* f()` into `f()`.
 *
 * Made on a syntax tree (acorn), by splicing the source at node ranges: only
 * generator stars and yield keywords are touched, so `yield` inside a string,
 * a template literal, a comment, a regular expression or an identifier
 * (`yieldCount`) stays as written, and a scenario keeps its id and invariant
 * names. Lines are kept, so stack traces (and the sites free-run reports)
 * point at the same lines as the generator code's.
 *
 * Node only: bin/twin-loader.mjs applies it to modules imported with `?twin`.
 */
import { parse, type AnyNode, type Expression, type Program, type Token } from 'acorn';
import { ancestor } from 'acorn-walk';

/** Decides the specifier a relative import of a twin gets (e.g. `./x.ts?twin`), or undefined to keep it. */
export type ImportRewrite = (specifier: string) => string | undefined;

interface Edit {
  start: number;
  end: number;
  text: string;
}

const IDENT_PART = /[\p{ID_Continue}$\u200c\u200d]/u;
const LINE_BREAK = /[\n\r\u2028\u2029]/;
/**
 * Operand starts that read differently at the start of a statement once `yield` is gone: a block, a
 * declaration, or a token that joins the previous line when it has no semicolon (`a = b` + `[x]`).
 */
const STATEMENT_HAZARD = /^(?:[{([`+\-/]|function\b|class\b|let\s*\[|async\s+function\b)/;

/** The twin of a module's JavaScript (an ES module); `rewriteImport` renames relative module specifiers. */
export function twinSource(js: string, rewriteImport?: ImportRewrite): string {
  const stars: number[] = [];
  const onToken = (t: Token): void => {
    if (t.type.label === '*') stars.push(t.start);
  };
  const ast: Program = parse(js, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, onToken });
  const edits: Edit[] = [];

  /** The first `*` token in [from, to): a generator's star (comments in between are skipped by the tokenizer). */
  const starIn = (from: number, to: number): number => {
    let lo = 0;
    let hi = stars.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (stars[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    const at = stars[lo];
    if (at === undefined || at >= to) throw new Error(`twin: no generator star in ${from}-${to}`);
    return at;
  };

  /** Removes a star and the spaces after it, keeping one space where a word precedes it (`function*g` → `function g`). */
  const dropStar = (at: number): void => {
    const end = at + 1 + /^[ \t]*/.exec(js.slice(at + 1, at + 64))![0].length;
    edits.push({ start: at, end, text: IDENT_PART.test(js[at - 1] ?? '') ? ' ' : '' });
  };

  const generatorFunction = (node: AnyNode & { generator: boolean; async: boolean }, ancestors: AnyNode[]): void => {
    if (!node.generator || node.async) return; // an async generator is not a routine a twin can call: left as written
    const parent = ancestors[ancestors.length - 2];
    const method = parent && (parent.type === 'MethodDefinition' || (parent.type === 'Property' && parent.method)) && parent.value === node;
    if (method) dropStar(starIn(parent.start, parent.key.start));
    else dropStar(starIn(node.start, node.end));
  };

  const yieldExpression = (node: AnyNode & { type: 'YieldExpression' }, ancestors: AnyNode[]): void => {
    const fn = [...ancestors].reverse().find((a) => a.type === 'FunctionDeclaration' || a.type === 'FunctionExpression');
    if (fn && 'async' in fn && fn.async) return;
    const arg: Expression | null | undefined = node.argument;
    if (!arg) {
      // A bare `yield` resumes with undefined: the twin's value is the same.
      edits.push({ start: node.start, end: node.end, text: 'void 0' });
      return;
    }
    // The keyword, and the delegate's star: everything before the operand that is not a comment.
    const keywordEnd = node.delegate ? starIn(node.start, arg.start) + 1 : node.start + 'yield'.length;
    const gap = js.slice(keywordEnd, arg.start);
    const ws = /^[ \t]*/.exec(gap)![0].length;
    const statement = [...ancestors].reverse().find((a) => a.type.endsWith('Statement') || a.type.endsWith('Declaration'));
    const atStatementStart = statement?.type === 'ExpressionStatement' && statement.start === node.start;
    const lineBreak = LINE_BREAK.test(gap);
    const rest = keywordEnd + ws; // what follows the removed keyword: a parenthesis of the operand's own, or a comment, may come first
    if (atStatementStart && (lineBreak || STATEMENT_HAZARD.test(js.slice(rest, rest + 16)))) {
      // `void (...)` starts a statement safely anywhere, and the statement's value was discarded anyway.
      edits.push({ start: node.start, end: rest, text: 'void (' });
      edits.push({ start: arg.end, end: arg.end, text: ')' });
    } else if (lineBreak) {
      // A line break after `yield*` (possible inside a comment) would let `return` end at it once the keyword is gone.
      edits.push({ start: node.start, end: rest, text: '(' });
      edits.push({ start: arg.end, end: arg.end, text: ')' });
    } else {
      edits.push({ start: node.start, end: rest, text: '' });
    }
  };

  const moduleSource = (source: AnyNode | null | undefined): void => {
    if (!rewriteImport || !source || source.type !== 'Literal' || typeof source.value !== 'string') return;
    const to = rewriteImport(source.value);
    if (to !== undefined) edits.push({ start: source.start, end: source.end, text: JSON.stringify(to) });
  };

  ancestor(ast, {
    FunctionDeclaration: generatorFunction,
    FunctionExpression: generatorFunction,
    YieldExpression: yieldExpression,
    ImportDeclaration: (n) => moduleSource(n.source),
    ImportExpression: (n) => moduleSource(n.source),
    ExportNamedDeclaration: (n) => moduleSource(n.source),
    ExportAllDeclaration: (n) => moduleSource(n.source),
  });
  return splice(js, edits);
}

/** Applies non-overlapping edits; edits at one offset keep the order they were made in (inner before outer). */
function splice(js: string, edits: Edit[]): string {
  const sorted = edits.map((e, i) => ({ ...e, i })).sort((a, b) => a.start - b.start || a.i - b.i);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    out += js.slice(at, e.start) + e.text;
    at = Math.max(at, e.end);
  }
  return out + js.slice(at);
}

/**
 * The specifier a twin's relative import gets: `?twin` for kernel and scenario code (so their generators
 * become plain functions too), none for the rest of the product under `srcRoot` (machine, engine, scenario
 * API), which twins share with the generator code. `importer` is the importing module's URL.
 */
export function twinImport(specifier: string, importer: string, srcRoot: string): string | undefined {
  if (!/^\.{1,2}\//.test(specifier) || !/\.m?[jt]s$/.test(specifier)) return undefined;
  const target = new URL(specifier, importer).href;
  const shared = target.startsWith(srcRoot) && !target.startsWith(new URL('kernel/', srcRoot).href);
  return shared ? undefined : `${specifier}?twin`;
}
