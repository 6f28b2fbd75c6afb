// Entry point of the browser app: registers the root element used by index.html.
import './app-shell.ts';
import { presetRig } from '../machine/presets.ts';

// e2e/sandbox.spec.ts drives the scenario sandbox's host directly. The flag does nothing else, and the host
// loads in its own chunk only when it is given.
if (new URLSearchParams(location.search).has('sandbox-e2e')) {
  void import('../workers/sandbox-host.ts').then((host) => {
    (window as unknown as { raceboxSandbox: unknown }).raceboxSandbox = { openSandbox: host.openSandbox, presetRig };
  });
}
