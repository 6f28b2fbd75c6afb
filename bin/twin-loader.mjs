// Module hook: `<module>.ts?twin` is a plain-function twin of a kernel or scenario module, made from the
// same source by a syntax-tree transform (src/engine/free/twin-transform.ts). The source this hook gets
// from the next loader is JavaScript already (tsx has stripped the types). Relative imports of a twin are
// twins too, except the rest of the product under src/ (machine, engine, scenario API), which twins share
// with the generator code. A module's own query (a parameterised fixture's `?kind=ke`) is kept. Used by
// free-run CPU workers in Node.
import { twinImport, twinSource } from '../src/engine/free/twin-transform.ts';

const SRC_ROOT = new URL('../src/', import.meta.url).href;

export async function load(url, context, nextLoad) {
  const u = new URL(url);
  if (!u.searchParams.has('twin')) return nextLoad(url, context);
  u.searchParams.delete('twin');
  const base = u.href;
  const r = await nextLoad(base, { ...context, format: 'module' });
  const text = typeof r.source === 'string' ? r.source : new TextDecoder().decode(r.source);
  return { format: 'module', source: twinSource(text, (spec) => twinImport(spec, base, SRC_ROOT)), shortCircuit: true };
}
