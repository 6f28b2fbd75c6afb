// Module hook: `<module>.ts?twin` is a plain-function twin of a kernel or scenario module, made from
// the same source (DESIGN.md section 3): generator functions become plain functions, `yield m.at(...)`
// becomes a call of m.at(...) (the free-run machine's scheduling point) and `yield* f()` a plain call
// `f()`. Relative imports of a twin are twins too, except the machine, engine and scenario API,
// which twins share with the generator code. Used by free-run CPU workers in Node.
// (src/engine/free/loops holds benchmark scenarios: twinned like any scenario.)
const SHARED = /\/src\/(machine|scenario|workers|cli)\/|\/src\/engine\/(?!free\/loops\/)/;

export function twinSource(js) {
  return js
    .replace(/\bfunction\s*\*\s*/g, 'function ')
    // generator methods (`*name(`) in object literals and classes, minified or not
    .replace(/(^|[{},;])(\s*)(static\s+)?\*\s*([A-Za-z_$][\w$]*)\s*\(/gm, '$1$2$3$4(')
    .replace(/\byield\s*\*\s*/g, '')
    .replace(/\byield\b\s*/g, '');
}

function twinImports(js, url) {
  return js.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']+\.ts)\2/g, (all, lead, q, spec) => {
    const target = new URL(spec, url);
    if (SHARED.test(target.pathname)) return all;
    return `${lead}${q}${spec}?twin${q}`;
  });
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith('?twin')) return nextLoad(url, context);
  const base = url.slice(0, -'?twin'.length);
  const r = await nextLoad(base, { ...context, format: 'module' });
  const text = typeof r.source === 'string' ? r.source : new TextDecoder().decode(r.source);
  return { format: 'module', source: twinImports(twinSource(text), base), shortCircuit: true };
}
