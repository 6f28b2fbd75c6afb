// Module resolution hook: 'racebox' is the scenario API, wherever the importing file lives; and a
// user's scenario and its helpers outside this repository are ES modules.
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const api = new URL('../src/scenario/index.ts', import.meta.url).href;

// Outside a `"type": "module"` package Node (and tsx after it) would compile a .ts or .js file as
// CommonJS, and its `import ... from 'racebox'` would then become a require() that only this ESM
// hook could answer. tsx marks such files with a query (…?tsx-commonjs-export-preparse=1, sometimes
// also percent-encoded into the path): it is dropped, other queries (free-run's `?twin`) are kept.
const TS = /\.(ts|tsx|mts|cts)$/;
const JS = /\.(js|jsx)$/;
const ESM_SYNTAX = /^\s*(import\s*[\w{*'"]|export\s)/m;

function asModule(url) {
  if (!url.startsWith('file:') || url.includes('/node_modules/')) return undefined;
  const q = url.indexOf('?');
  const query = q < 0 ? [] : url.slice(q + 1).split('&').filter((p) => !p.startsWith('tsx-'));
  let file = fileURLToPath(q < 0 ? url : url.slice(0, q));
  const cut = file.indexOf('?');
  if (cut >= 0) file = file.slice(0, cut);
  if (!isEsmSource(file)) return undefined;
  return pathToFileURL(file).href + (query.length ? `?${query.join('&')}` : '');
}

function isEsmSource(file) {
  if (file.endsWith('.cts')) return false;
  if (TS.test(file)) return true;
  // A .js file is ESM here only when it is written as one (a CommonJS helper stays CommonJS).
  if (!JS.test(file)) return false;
  try {
    return ESM_SYNTAX.test(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'racebox') return nextResolve(api, context);
  const r = await nextResolve(specifier, context);
  if (r.format !== 'commonjs') return r;
  const url = asModule(r.url);
  return url === undefined ? r : { ...r, url, format: 'module' };
}
