// Lets Node run the TypeScript sources and scenario files directly, and makes
// `import ... from 'racebox'` resolve to the scenario API from any folder, so a
// user's scenario outside this repository loads the same way ours do.
import './v8-tuning.mjs';
import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./resolve-racebox.mjs', import.meta.url);
// Plain-function twins of kernel and scenario modules for free-run (`?twin`, see twin-loader.mjs).
register('./twin-loader.mjs', import.meta.url);
globalThis.__raceboxTwinHook = true;

// A user's helper that stays CommonJS (`require('racebox')`) finds the scenario API too.
const apiFile = fileURLToPath(new URL('../src/scenario/index.ts', import.meta.url));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, request === 'racebox' ? apiFile : request, ...rest);
};
