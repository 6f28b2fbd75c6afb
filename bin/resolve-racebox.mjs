// Module resolution hook: 'racebox' is the scenario API, wherever the importing file lives.
const api = new URL('../src/scenario/index.ts', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'racebox') return nextResolve(api, context);
  return nextResolve(specifier, context);
}
