// Lets Node run the TypeScript sources and scenario files directly, and makes
// `import ... from 'racebox'` resolve to the scenario API from any folder, so a
// user's scenario outside this repository loads the same way ours do.
import './v8-tuning.mjs';
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./resolve-racebox.mjs', import.meta.url);
// Plain-function twins of kernel and scenario modules for free-run (`?twin`, see twin-loader.mjs).
register('./twin-loader.mjs', import.meta.url);
globalThis.__raceboxTwinHook = true;
