/**
 * The load-time check of a scenario module's JavaScript: the mistakes that would make a scenario
 * test nothing while it seems to pass. A kernel routine (registry kind 'routine') and a function*
 * helper of the same module are generators: called without `yield*` they only create a generator,
 * the routine never runs — and in a condition the generator object is always true, so a
 * `KeTryToAcquireSpinLockAtDpcLevel` "succeeds" and the critical section runs unlocked.
 *
 * Rules (each error gives line, column and what to write instead):
 * - inside a generator, such a call is allowed only as the operand of `yield*` (through
 *   parentheses and the branches of `c ? a : b`);
 * - inside a plain function it is allowed only as the value the function returns (a callback
 *   that hands the routine on, `(kk, irp) => CancelRoutine(kk, s, irp)`), except in setup and in
 *   invariants, which run outside any processor;
 * - `yield <expr>` (without *) is refused: scenario code yields only through kernel routines;
 * - `k[…]` on the kernel cannot be checked and is refused;
 * - async functions are refused: the engine interleaves generator steps, not awaits.
 *
 * The kernel's identifier is the first parameter of setup and of every actor's run, any
 * identifier a registry member is read from, and the parameter a module function receives it in.
 * Names are tracked per module, not per scope: scenario modules are small and consistent.
 */
import { parse, type AnyNode, type CallExpression, type Function as FunctionNode, type Node } from 'acorn';
import { fullAncestor } from 'acorn-walk';
import { KERNEL_PLAIN, KERNEL_ROUTINES } from '../kernel/registry.ts';
import { isStateReader } from '../kernel/state-readers.ts';

export interface SourceProblem {
  /** 1-based, in the checked text. */
  line: number;
  /** 1-based, in the checked text. */
  column: number;
  message: string;
  /** Text at the problem's start (for finding the column again in the original TypeScript). */
  anchor: string;
}

type Fn = FunctionNode & Node;

interface ModuleFacts {
  /** function* helpers declared in the module, by name. */
  helpers: Set<string>;
  /** Identifiers that hold the kernel. */
  kernel: Set<string>;
}

export interface ImportSite {
  specifier: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** What `code` imports or re-exports from (static import/export … from, and import('…') of a string), where. */
export function importedSpecifiers(code: string): ImportSite[] {
  let tree: AnyNode;
  try {
    tree = parse(code, { ecmaVersion: 'latest', sourceType: 'module', locations: true, allowHashBang: true }) as AnyNode;
  } catch {
    return [];
  }
  const out: ImportSite[] = [];
  fullAncestor(tree, (node) => {
    const src =
      node.type === 'ImportDeclaration' || node.type === 'ExportAllDeclaration' || node.type === 'ExportNamedDeclaration' || node.type === 'ImportExpression'
        ? node.source
        : null;
    if (src && src.type === 'Literal' && typeof src.value === 'string') out.push({ specifier: src.value, line: node.loc!.start.line, column: node.loc!.start.column + 1 });
  });
  return out;
}

/** Parses `code` (JavaScript, ES module or script) and returns every problem found, in source order. */
export function checkScenarioCode(code: string): SourceProblem[] {
  let tree: AnyNode;
  try {
    tree = parse(code, { ecmaVersion: 'latest', sourceType: 'module', locations: true, allowHashBang: true }) as AnyNode;
  } catch (e) {
    const err = e as SyntaxError & { loc?: { line: number; column: number } };
    return [{ line: err.loc?.line ?? 1, column: (err.loc?.column ?? 0) + 1, message: err.message.replace(/\s*\(\d+:\d+\)$/, ''), anchor: '' }];
  }
  const facts = collectFacts(tree);
  const problems: SourceProblem[] = [];
  const report = (node: Node, message: string): void => {
    const start = node.loc!.start;
    problems.push({ line: start.line, column: start.column + 1, message, anchor: code.slice(node.start, Math.min(node.end, node.start + 40)) });
  };
  fullAncestor(tree, (node, _state, ancestors) => {
    switch (node.type) {
      case 'CallExpression':
        checkCall(node, ancestors, facts, code, report);
        break;
      case 'YieldExpression':
        if (!node.delegate) {
          const arg = node.argument ? generatorCall(node.argument, facts) : null;
          report(
            node,
            arg
              ? `yield ${arg.text} hands the generator to the engine instead of running ${arg.name}: write yield* ${arg.text}`
              : `a scenario yields only through kernel routines: write yield* k.Routine(…) (yield* k.YieldProcessor() for a plain scheduling point), not yield${node.argument ? ` ${snippet(code, node.argument)}` : ''}`,
          );
        }
        break;
      case 'MemberExpression':
        if (node.computed && node.object.type === 'Identifier' && facts.kernel.has(node.object.name)) {
          report(node, `${node.object.name}[${snippet(code, node.property)}] cannot be checked: call the kernel by name, e.g. yield* ${node.object.name}.KeAcquireSpinLock(lock)`);
        }
        break;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        if (node.async) {
          const parent = ancestors[ancestors.length - 2];
          const at = parent && (parent.type === 'Property' || parent.type === 'MethodDefinition') && parent.value === node ? parent : node;
          report(
            at,
            `${describeFunction(node, parent)} is async: the engine interleaves generator steps, so nothing after an await is tested — ` +
              'write a generator (*run(k, s) { … } or function*) and call the kernel with yield* k.Routine(…)',
          );
        }
        break;
    }
  });
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

function snippet(code: string, node: Node): string {
  const text = code.slice(node.start, node.end).replace(/\s+/g, ' ');
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

function describeFunction(fn: Fn, parent: AnyNode | undefined): string {
  if (fn.id) return `function ${fn.id.name}`;
  if (parent && (parent.type === 'Property' || parent.type === 'MethodDefinition') && parent.key.type === 'Identifier') {
    return parent.key.name === 'run' ? 'this actor' : `${parent.key.name}`;
  }
  if (parent?.type === 'VariableDeclarator' && parent.id.type === 'Identifier') return `function ${parent.id.name}`;
  return 'this function';
}

interface GeneratorCall {
  /** The routine's or helper's name. */
  name: string;
  /** The call as the message shows it: `k.KeAcquireSpinLock(…)`. */
  text: string;
  helper: boolean;
}

/** A call that makes a generator: a kernel routine on any object, or a function* helper of this module. */
function generatorCall(node: AnyNode, facts: ModuleFacts): GeneratorCall | null {
  const call = node.type === 'ChainExpression' ? node.expression : node;
  if (call.type !== 'CallExpression') return null;
  const callee = call.callee;
  if (callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier' && KERNEL_ROUTINES.has(callee.property.name)) {
    const obj = callee.object;
    const owner = obj.type === 'Identifier' ? obj.name : obj.type === 'MemberExpression' && !obj.computed && obj.property.type === 'Identifier' && obj.object.type === 'ThisExpression' ? `this.${obj.property.name}` : 'k';
    return { name: callee.property.name, text: `${owner}.${callee.property.name}(…)`, helper: false };
  }
  if (callee.type === 'Identifier' && facts.helpers.has(callee.name)) return { name: callee.name, text: `${callee.name}(…)`, helper: true };
  return null;
}

function isFunction(n: AnyNode): n is Fn & AnyNode {
  return n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression';
}

/** setup and invariants run outside any processor: handing a routine back from them runs nothing either. */
function runsOutsideProcessors(fnIndex: number, ancestors: AnyNode[]): boolean {
  const parent = ancestors[fnIndex - 1];
  if (!parent || parent.type !== 'Property' || parent.key.type !== 'Identifier') return false;
  if (parent.key.name === 'setup') return true;
  const obj = ancestors[fnIndex - 2];
  const holder = ancestors[fnIndex - 3];
  return obj?.type === 'ObjectExpression' && holder?.type === 'Property' && holder.key.type === 'Identifier' && holder.key.name === 'invariants';
}

function checkCall(node: CallExpression, ancestors: AnyNode[], facts: ModuleFacts, code: string, report: (n: Node, m: string) => void): void {
  const g = generatorCall(node, facts);
  if (!g) return;
  // Climb through what keeps the call the operand itself: parentheses (not in the tree), `?.`, the branches of `?:`.
  let i = ancestors.length - 1;
  let child: AnyNode = ancestors[i]!;
  while (i > 0) {
    const p = ancestors[i - 1]!;
    if (p.type === 'ChainExpression' || (p.type === 'ConditionalExpression' && p.test !== child)) {
      child = p;
      i--;
      continue;
    }
    break;
  }
  const parent = i > 0 ? ancestors[i - 1]! : null;
  if (parent?.type === 'YieldExpression') {
    // `yield k.X()` is reported once, by the YieldExpression rule.
    return;
  }
  let fnIndex = -1;
  for (let j = i - 1; j >= 0; j--) {
    if (isFunction(ancestors[j]!)) {
      fnIndex = j;
      break;
    }
  }
  const fn = fnIndex >= 0 ? (ancestors[fnIndex] as Fn) : null;
  const what = g.helper ? `${g.name} is a function* helper` : `${g.name} is a kernel routine (a scheduling point)`;
  const star = `yield* ${g.text}`;
  // An invariant reads state with the KeReadState* readers as plain calls (kernel/state-readers.ts); a
  // plain function may be one, defined apart from `invariants: {…}`. In an actor, the run refuses the call.
  if (fn && !fn.generator && !g.helper && isStateReader(g.name)) return;
  if (!fn || !fn.generator) {
    const returned = (parent?.type === 'ReturnStatement') || (parent !== null && parent === fn && fn.type === 'ArrowFunctionExpression' && fn.body === child);
    if (fn && returned && !runsOutsideProcessors(fnIndex, ancestors)) return;
    const where = !fn ? 'at the top level of the module' : runsOutsideProcessors(fnIndex, ancestors) ? 'in setup or an invariant, which run outside any processor' : 'in a plain function';
    report(node, `${g.text} ${where}: ${what}, it runs only inside a generator as ${star} — make the function a function* (or *run(k, s)) and write ${star}${!fn || runsOutsideProcessors(fnIndex, ancestors) ? '; in setup initialize objects only (k.KeInitializeSpinLock(), k.ExAllocatePool2(…), k.poke(…)) and read state in invariants with k.peek(…)' : ''}`);
    return;
  }
  const [where, write] = placement(parent, child, g, code);
  report(node, `${g.text} ${where}: ${what}, and without yield* it never runs — write ${write}`);
}

/** Where in a generator the call stands, and what to write there instead. */
function placement(parent: AnyNode | null, child: AnyNode, g: GeneratorCall, code: string): [string, string] {
  const star = `yield* ${g.text}`;
  const paren = `(${star})`;
  if (!parent) return ['here', star];
  switch (parent.type) {
    case 'IfStatement':
    case 'WhileStatement':
    case 'DoWhileStatement':
    case 'ForStatement':
      if ('test' in parent && parent.test === child) {
        const kw = parent.type === 'IfStatement' ? 'if' : parent.type === 'ForStatement' ? 'for (…;' : 'while';
        return [`in a condition (a generator object is always true, so the test passes without ${g.name} running)`, `${kw} (${star}) …`];
      }
      break;
    case 'ConditionalExpression':
      return [`in a condition (a generator object is always true)`, `${paren} ? … : …`];
    case 'LogicalExpression':
      return [`as an operand of ${parent.operator} (a generator object is always true)`, paren];
    case 'UnaryExpression':
      return [
        parent.operator === '!' ? 'in a condition (!generator is always false)' : `as the operand of ${parent.operator}`,
        `${parent.operator === 'typeof' || parent.operator === 'void' || parent.operator === 'delete' ? `${parent.operator} ` : parent.operator}${paren}`,
      ];
    case 'BinaryExpression':
      return [`as an operand of ${parent.operator} (it computes with a generator object, not ${g.name}'s result)`, paren];
    case 'ReturnStatement':
      return [`after return (it returns the generator, not ${g.name}'s result)`, `return ${star}`];
    case 'ArrowFunctionExpression':
      return ['as the value of an arrow function', star];
    case 'CallExpression':
    case 'NewExpression':
      if (parent.callee !== child) return ['as an argument (the callee receives a generator, not the result)', `const r = ${star}; and pass r`];
      break;
    case 'VariableDeclarator':
      return [`as an initial value (the variable holds a generator, not ${g.name}'s result)`, `${code.slice(parent.start, parent.id.end)} = ${star}`];
    case 'AssignmentExpression':
      return [`assigned (the variable holds a generator, not ${g.name}'s result)`, `${code.slice(parent.left.start, parent.left.end)} ${parent.operator} ${parent.operator === '=' ? star : paren}`];
    case 'ExpressionStatement':
      return ['as a statement', `${star};`];
    case 'ForOfStatement':
    case 'ForInStatement':
      return ['as what a loop iterates', `${star} to run it`];
    case 'TemplateLiteral':
    case 'SpreadElement':
    case 'ArrayExpression':
    case 'Property':
    case 'MemberExpression':
    case 'SequenceExpression':
    case 'AwaitExpression':
    case 'TaggedTemplateExpression':
      return ['inside an expression', paren];
  }
  return ['inside an expression', paren];
}

/** function* helpers and the identifiers holding the kernel, for the whole module. */
function collectFacts(tree: AnyNode): ModuleFacts {
  const helpers = new Set<string>();
  const kernel = new Set<string>();
  /** Module functions by name, for following the kernel into their parameters. */
  const functions = new Map<string, Fn>();
  const calls: CallExpression[] = [];
  const firstParam = (fn: Fn): string | undefined => (fn.params[0]?.type === 'Identifier' ? fn.params[0].name : undefined);
  fullAncestor(tree, (node, _s, ancestors) => {
    const parent = ancestors[ancestors.length - 2];
    if (node.type === 'FunctionDeclaration' && node.id) {
      functions.set(node.id.name, node);
      if (node.generator) helpers.add(node.id.name);
    } else if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier' && node.init && (node.init.type === 'FunctionExpression' || node.init.type === 'ArrowFunctionExpression')) {
      functions.set(node.id.name, node.init);
      if (node.init.generator) helpers.add(node.id.name);
    } else if (isFunction(node) && parent && (parent.type === 'Property' || parent.type === 'MethodDefinition') && parent.value === node && parent.key.type === 'Identifier' && (parent.key.name === 'setup' || parent.key.name === 'run')) {
      const k = firstParam(node);
      if (k) kernel.add(k);
    } else if (node.type === 'MemberExpression' && !node.computed && node.object.type === 'Identifier' && node.property.type === 'Identifier' && (KERNEL_ROUTINES.has(node.property.name) || (KERNEL_PLAIN.has(node.property.name) && /^[A-Z]/.test(node.property.name)))) {
      kernel.add(node.object.name);
    } else if (node.type === 'CallExpression') {
      calls.push(node);
    }
  });
  // A module function called with the kernel as an argument receives it in that parameter (a few rounds reach helpers of helpers).
  for (let round = 0; round < 4; round++) {
    let grew = false;
    for (const c of calls) {
      if (c.callee.type !== 'Identifier') continue;
      const fn = functions.get(c.callee.name);
      if (!fn) continue;
      c.arguments.forEach((a, i) => {
        const p = fn.params[i];
        if (a.type === 'Identifier' && kernel.has(a.name) && p?.type === 'Identifier' && !kernel.has(p.name)) {
          kernel.add(p.name);
          grew = true;
        }
      });
    }
    if (!grew) break;
  }
  return { helpers, kernel };
}
