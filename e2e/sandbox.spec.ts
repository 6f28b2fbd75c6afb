/**
 * The scenario sandbox (public/sandbox.html, headers from vite-plugins/sandbox-frame.ts; docs/sandbox.md):
 * user code in the frame and in the workers the frame starts can reach neither the app's storage nor its
 * network, while the frame keeps cross-origin isolation (SharedArrayBuffer, Atomics.wait) for free-run.
 *
 * The frame's runtime here is a test runtime: Comlink (its UMD build, so it needs no bundler) plus probes,
 * sent to the frame's loader as source text, as the app's runtime will be. The "user code" is a hostile
 * scenario body evaluated with `new Function`, the way src/workers/transpile.ts evaluates a user scenario.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { openApp } from './helpers.ts';

const COMLINK_UMD = readFileSync(createRequire(import.meta.url).resolve('comlink'), 'utf8');

/** Every request user code attempts goes to a path with this marker, on the app's own origin. */
const CANARY = '__racebox-canary';

/**
 * Hostile user code: tries each way out and reports what happened, 'ok:…' when it got through and
 * 'blocked:<error name>' when it did not. Runs in a window or a worker (it tests for each API first).
 */
const HOSTILE = `
  const out = {};
  const withTimeout = (p) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 3000))]);
  const attempt = async (name, f) => {
    try { out[name] = 'ok:' + String(await withTimeout(Promise.resolve().then(f))); }
    catch (e) { out[name] = 'blocked:' + ((e && e.name) || String(e)); }
  };
  const request = (p) => new Promise((res, rej) => { p.onsuccess = () => res('success'); p.onerror = () => rej(p.error); });
  const canary = (what) => appOrigin + '/${CANARY}/' + what + '-' + where;
  await attempt('indexedDB.open', () => request(indexedDB.open('racebox')));
  await attempt('indexedDB.deleteDatabase', () => request(indexedDB.deleteDatabase('racebox')));
  await attempt('caches', () => caches.keys());
  await attempt('fetch', () => fetch(canary('fetch')).then((r) => r.status));
  await attempt('XMLHttpRequest', () => new Promise((res, rej) => {
    const x = new XMLHttpRequest(); x.open('GET', canary('xhr')); x.onload = () => res(x.status); x.onerror = () => rej(new Error('xhr failed')); x.send();
  }));
  await attempt('WebSocket', () => new Promise((res, rej) => {
    const w = new WebSocket(canary('ws').replace(/^http/, 'ws')); w.onopen = () => res('open'); w.onerror = () => rej(new Error('ws failed'));
  }));
  await attempt('EventSource', () => new Promise((res, rej) => {
    const s = new EventSource(canary('sse')); s.onopen = () => res('open'); s.onerror = () => { s.close(); rej(new Error('sse failed')); };
  }));
  if (typeof importScripts === 'function') await attempt('importScripts', () => { importScripts(canary('import-scripts')); return 'loaded'; });
  await attempt('import()', () => import(canary('import')).then(() => 'loaded'));
  if (typeof document === 'object') {
    // sendBeacon returns true when it queued the request, whether or not it may be sent: the server decides.
    await attempt('sendBeacon', () => navigator.sendBeacon(canary('beacon'), 'x'));
    await attempt('image', () => new Promise((res, rej) => { const i = new Image(); i.onload = () => res('loaded'); i.onerror = () => rej(new Error('image failed')); i.src = canary('image'); }));
    await attempt('document.cookie', () => document.cookie);
    await attempt('localStorage', () => localStorage.length);
    await attempt('parent.document', () => parent.document.title);
    await attempt('window.open', () => { const w = window.open(canary('popup'), '_blank'); if (!w) throw new Error('no window'); return 'opened'; });
    await attempt('top.location', () => { top.location.href = canary('top-navigation'); return 'assigned'; });
  }
  return out;
`;

/**
 * The runtime module the test hands to the frame's loader. `start(port)` exposes, with Comlink on the port:
 * environment(), runInFrame(appOrigin) and runInWorker(appOrigin). Workers are classic scripts from blob: URLs
 * that import their module from another blob: URL (module workers from blob: URLs do not start in an
 * opaque-origin frame in Chromium 156; docs/sandbox.md).
 */
function runtimeSource(hostile: string): string {
  const workerModule = `
    const userCode = new (Object.getPrototypeOf(async function () {}).constructor)('appOrigin', 'where', ${JSON.stringify(hostile)});
    self.onmessage = async (e) => {
      const { appOrigin, shared } = e.data;
      const view = new Int32Array(shared);
      const r = { escapes: await userCode(appOrigin, 'worker') };
      r.crossOriginIsolated = self.crossOriginIsolated;
      r.origin = self.origin;
      r.sharedRead = Atomics.load(view, 0);
      Atomics.store(view, 1, 7);
      r.atomicsWait = Atomics.wait(view, 2, 0, 10);
      postMessage(r);
    };
    postMessage('ready');
  `;
  return `${COMLINK_UMD}
    const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
    const userCode = new AsyncFunction('appOrigin', 'where', ${JSON.stringify(hostile)});
    const workerModule = ${JSON.stringify(workerModule)};
    const blobUrl = (text) => URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
    const api = {
      environment() {
        let sab = 'no SharedArrayBuffer';
        try { sab = new SharedArrayBuffer(8).byteLength; } catch (e) { sab = e.name; }
        return { origin: self.origin, crossOriginIsolated: self.crossOriginIsolated, sharedArrayBuffer: sab };
      },
      runInFrame(appOrigin) { return userCode(appOrigin, 'frame'); },
      runInWorker(appOrigin) {
        return new Promise((resolve, reject) => {
          const moduleUrl = blobUrl(workerModule);
          const worker = new Worker(blobUrl('import(' + JSON.stringify(moduleUrl) + ').catch((e) => postMessage({ loadError: String(e) }));'));
          const shared = new SharedArrayBuffer(12);
          const view = new Int32Array(shared);
          Atomics.store(view, 0, 42);
          worker.onerror = (e) => reject(new Error('worker failed: ' + (e.message || e.type)));
          worker.onmessage = (e) => {
            if (e.data === 'ready') { worker.postMessage({ appOrigin, shared }); return; }
            worker.terminate();
            resolve({ ...e.data, frameReadBack: Atomics.load(view, 1) });
          };
        });
      },
    };
    export function start(port) { Comlink.expose(api, port); }
  `;
}

interface Environment {
  origin: string;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: number | string;
}
type Escapes = Record<string, string>;
interface WorkerReport {
  escapes: Escapes;
  crossOriginIsolated: boolean;
  origin: string;
  sharedRead: number;
  frameReadBack: number;
  atomicsWait: string;
}

/**
 * Opens the app, embeds the sandbox frame as the app will (sandbox="allow-scripts", and `allow` delegating
 * cross-origin isolation unless told not to), sends it the runtime with one end of a MessageChannel, and keeps
 * a Comlink proxy on that channel as `window.__sandbox`.
 */
async function openSandbox(page: Page, options: { delegateIsolation?: boolean } = {}): Promise<void> {
  await openApp(page);
  await page.addScriptTag({ content: COMLINK_UMD });
  await page.evaluate(
    async ({ runtime, delegateIsolation }) => {
      const frame = document.createElement('iframe');
      frame.setAttribute('sandbox', 'allow-scripts');
      if (delegateIsolation) frame.setAttribute('allow', 'cross-origin-isolated');
      frame.hidden = true;
      frame.src = '/sandbox.html';
      const fromFrame = (type: string): Promise<MessageEvent> =>
        new Promise((resolve) => {
          const onMessage = (e: MessageEvent): void => {
            if (e.source !== frame.contentWindow || e.data?.type !== type) return;
            removeEventListener('message', onMessage);
            resolve(e);
          };
          addEventListener('message', onMessage);
        });
      const ready = fromFrame('racebox-sandbox-ready');
      document.body.append(frame);
      await ready;
      const channel = new MessageChannel();
      // An opaque origin matches no origin but '*'; what is sent is not secret (the runtime and a port).
      frame.contentWindow!.postMessage({ type: 'racebox-sandbox-init', runtime }, '*', [channel.port2]);
      const w = window as unknown as { Comlink: { wrap(p: MessagePort): unknown }; __sandbox: unknown; __sandboxError: Promise<MessageEvent> };
      w.__sandbox = w.Comlink.wrap(channel.port1);
      w.__sandboxError = fromFrame('racebox-sandbox-error');
    },
    { runtime: runtimeSource(HOSTILE), delegateIsolation: options.delegateIsolation ?? true },
  );
}

type SandboxMethod = 'environment' | 'runInFrame' | 'runInWorker';
async function callSandbox<T>(page: Page, method: SandboxMethod): Promise<T> {
  return page.evaluate(
    async ({ method }) => {
      const w = window as unknown as { __sandbox: Record<string, (origin: string) => Promise<unknown>>; __sandboxError: Promise<MessageEvent> };
      const failed = w.__sandboxError.then((e) => Promise.reject(new Error(`sandbox: ${e.data.message}`)));
      return Promise.race([w.__sandbox[method]!(location.origin), failed]);
    },
    { method },
  ) as Promise<T>;
}

/**
 * Answers canary requests at the network layer and returns the paths of those that arrived: a request CSP
 * blocks never gets here. (Playwright's 'request' event is no witness: it fires for requests CSP then blocks.)
 * The answer grants CORS to any origin, so a request that does arrive also succeeds in user code.
 */
async function serveCanary(context: BrowserContext): Promise<string[]> {
  const arrived: string[] = [];
  await context.route(`**/${CANARY}/**`, (route) => {
    arrived.push(new URL(route.request().url()).pathname);
    return route.fulfill({
      status: 200,
      body: '',
      headers: { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin', 'Content-Type': 'text/javascript' },
    });
  });
  return arrived;
}

const historyDatabases = (page: Page): Promise<string[]> =>
  page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? '').sort());

test.describe('scenario sandbox frame', () => {
  test('is an opaque origin, cross-origin isolated, with SharedArrayBuffer and Atomics.wait in its workers', async ({ page }) => {
    await openSandbox(page);
    const env = await callSandbox<Environment>(page, 'environment');
    expect(env).toEqual({ origin: 'null', crossOriginIsolated: true, sharedArrayBuffer: 8 });
    const worker = await callSandbox<WorkerReport>(page, 'runInWorker');
    expect(worker.origin).toBe('null');
    expect(worker.crossOriginIsolated).toBe(true);
    // Memory made in the frame is the worker's memory too: each sees what the other stored.
    expect(worker.sharedRead).toBe(42);
    expect(worker.frameReadBack).toBe(7);
    expect(worker.atomicsWait).toBe('timed-out');
  });

  test('without allow="cross-origin-isolated" the frame has no SharedArrayBuffer', async ({ page }) => {
    await openSandbox(page, { delegateIsolation: false });
    const env = await callSandbox<Environment>(page, 'environment');
    expect(env.origin).toBe('null');
    expect(env.crossOriginIsolated).toBe(false);
    expect(env.sharedArrayBuffer).toBe('ReferenceError');
  });

  test('user code in the frame and its workers reaches neither the history database nor the network', async ({ page, context }) => {
    const canaryRequests = await serveCanary(context);
    await openSandbox(page);
    await expect.poll(() => historyDatabases(page)).toContain('racebox');
    const before = await historyDatabases(page);

    const inFrame = await callSandbox<Escapes>(page, 'runInFrame');
    const inWorker = (await callSandbox<WorkerReport>(page, 'runInWorker')).escapes;

    expect(inFrame['indexedDB.open']).toBe('blocked:SecurityError');
    expect(inFrame['indexedDB.deleteDatabase']).toBe('blocked:SecurityError');
    expect(inFrame['caches']).toBe('blocked:SecurityError');
    expect(inWorker['indexedDB.open']).toBe('blocked:SecurityError');
    expect(inWorker['indexedDB.deleteDatabase']).toBe('blocked:SecurityError');
    // A worker of an opaque origin has no `caches` at all.
    expect(inWorker['caches']).toMatch(/^blocked:/);
    for (const [where, escapes] of [['frame', inFrame], ['worker', inWorker]] as const) {
      for (const api of ['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'import()']) {
        expect(escapes[api], `${api} in the ${where}`).toMatch(/^blocked:/);
      }
    }
    expect(inWorker['importScripts']).toBe('blocked:NetworkError');
    for (const api of ['image', 'document.cookie', 'localStorage', 'parent.document', 'window.open', 'top.location']) {
      expect(inFrame[api], `${api} in the frame`).toMatch(/^blocked:/);
    }
    // sendBeacon returns true when it queued a request, sent or not: what arrived is the witness.
    await page.waitForTimeout(500);
    expect(canaryRequests).toEqual([]);
    expect(await historyDatabases(page)).toEqual(before);
    expect(page.url()).not.toContain(CANARY);
    expect(context.pages()).toHaveLength(1);
  });

  // @isolated: run by e2e/sandbox.config.ts only. In the full suite (playwright.config.ts) this control failed twice in a row
  // (the opaque frame's requests were refused after the suites before it), while alone it passes.
  // What was ruled out (issue 14): not the frame's own timing — each attempt takes 12–150 ms against the 3 s of
  // withTimeout, also with the page's CPU throttled 8× (CDP Emulation.setCPUThrottlingRate); not this file's order
  // (the frame tests before it run in both configs); not state left by e2e/hostile-user.spec.ts (run before it in
  // one worker under playwright.config.ts, it passes). Nothing in the app registers a service worker, and each test
  // gets a fresh browser context (no shared HTTP cache). Not reproduced: the runs of the full suite that failed
  // predate RACEBOX_E2E_PORT, when two checkouts' suites on port 4173 could reuse each other's server
  // (reuseExistingServer) — a server built from another checkout — which is the one difference left unexplored.
  // Note that `--grep-invert` on the command line does not bring it back under playwright.config.ts (the config's
  // grepInvert still applies): run it with `npx playwright test -c e2e/sandbox.config.ts`.
  test('control: the same code in a sandboxed frame without the sandbox headers does reach the server @isolated', async ({ page, context }) => {
    // Proves the canary check above can fail: an opaque frame (srcdoc, no CSP) and its blob: worker are seen.
    const canaryRequests = await serveCanary(context);
    await openApp(page);
    const escapes = await page.evaluate(async (hostile) => {
      const frame = document.createElement('iframe');
      frame.setAttribute('sandbox', 'allow-scripts');
      const answer = new Promise<Record<string, unknown>>((resolve) =>
        addEventListener('message', (e) => { if (e.source === frame.contentWindow) resolve(e.data); }),
      );
      const worker = `const userCode = new (Object.getPrototypeOf(async function () {}).constructor)('appOrigin', 'where', ${JSON.stringify(hostile)});
        onmessage = async (e) => postMessage(await userCode(e.data, 'worker'));`;
      frame.srcdoc = `<script>
        const userCode = new (Object.getPrototypeOf(async function () {}).constructor)('appOrigin', 'where', ${JSON.stringify(hostile).replace(/</g, '\\u003c')});
        (async () => {
          const w = new Worker(URL.createObjectURL(new Blob([${JSON.stringify(worker).replace(/</g, '\\u003c')}], { type: 'text/javascript' })));
          const inWorker = new Promise((res) => { w.onmessage = (e) => res(e.data); });
          w.postMessage(${JSON.stringify(location.origin)});
          parent.postMessage({ worker: await inWorker, frame: await userCode(${JSON.stringify(location.origin)}, 'frame') }, '*');
        })();
      <\/script>`;
      document.body.append(frame);
      return answer;
    }, HOSTILE);
    // Storage stays out of reach (the origin is opaque); connections do not.
    expect(escapes).toMatchObject({
      frame: { 'indexedDB.open': 'blocked:SecurityError', fetch: 'ok:200', XMLHttpRequest: 'ok:200' },
      worker: { 'indexedDB.open': 'blocked:SecurityError', fetch: 'ok:200', XMLHttpRequest: 'ok:200', importScripts: 'ok:loaded' },
    });
    await expect.poll(() => canaryRequests).toEqual(expect.arrayContaining([`/${CANARY}/fetch-frame`, `/${CANARY}/fetch-worker`]));
  });

  test('opened on its own, sandbox.html is still an opaque origin and loads nothing', async ({ page }) => {
    const response = await page.goto('/sandbox.html');
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain('sandbox allow-scripts');
    expect(csp).toContain("connect-src 'none'");
    expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    expect(await page.evaluate(() => self.origin)).toBe('null');
    await expect(page.locator('body')).not.toContainText('not sandboxed');
  });
});

/**
 * The real sandbox (src/workers/sandbox-host.ts, src/workers/sandbox.worker.ts), driven from the app opened with
 * `?sandbox-e2e` (which exposes the host as `window.raceboxSandbox` and does nothing else): a user scenario given as source is explored by a worker inside the frame, the page talking to it with Comlink.
 */
/** The app with the sandbox host exposed (see src/ui/main.ts). */
async function openHost(page: Page): Promise<void> {
  await page.goto('/?sandbox-e2e');
  await page.waitForFunction(() => 'raceboxSandbox' in window);
}

test.describe('scenario sandbox host', () => {
  // Each test loads the app, the frame and a worker that parses the engine: on a loaded CI box, more than 30 s.
  test.describe.configure({ timeout: 60_000 });
  const IRQL_AS_LOCK = readFileSync(new URL('../scenarios/spinlock/irql-as-lock.ts', import.meta.url), 'utf8');

  /** Opens the sandbox on the app page and explores `source` in a sandbox worker; returns the run summary. */
  async function exploreInSandbox(page: Page, source: string): Promise<{ crossOriginIsolated: boolean; summary: { outcome: string; failure?: { message: string; invariant?: string } } }> {
    await openHost(page);
    return page.evaluate(async (source) => {
      interface Host {
        openSandbox(): Promise<{
          crossOriginIsolated: boolean;
          exploreWorker(): Promise<{ api: { explore(req: unknown): Promise<{ outcome: string; failure?: { message: string; invariant?: string } }> }; terminate(): void }>;
          dispose(): void;
        }>;
        presetRig(id: string): unknown;
      }
      const host = (window as unknown as { raceboxSandbox: Host }).raceboxSandbox;
      const sandbox = await host.openSandbox();
      const worker = await sandbox.exploreWorker();
      try {
        const summary = await worker.api.explore({
          scenario: { source, filename: 'user-scenario.ts' },
          rig: host.presetRig('dual-opteron-240'),
          strategy: 'random',
          seed: 1,
          schedules: 200,
        });
        return { crossOriginIsolated: sandbox.crossOriginIsolated, summary };
      } finally {
        worker.terminate();
        sandbox.dispose();
      }
    }, source);
  }

  test('a user scenario explored in a sandbox worker finds its race', async ({ page }) => {
    const { crossOriginIsolated, summary } = await exploreInSandbox(page, IRQL_AS_LOCK);
    expect(crossOriginIsolated).toBe(true);
    expect(summary.outcome).toBe('invariant');
    expect(summary.failure?.invariant).toBe('no lost update');
    expect(summary.failure?.message).toContain('an increment was lost');
  });

  test('a hostile user scenario in a sandbox worker reaches neither IndexedDB nor the network', async ({ page, context }) => {
    const arrived = await serveCanary(context);
    await openHost(page);
    await page.evaluate(() => new Promise((resolve, reject) => {
      const q = indexedDB.open('racebox');
      q.onsuccess = () => { q.result.close(); resolve(undefined); };
      q.onerror = () => reject(q.error);
    }));
    const appOrigin = new URL(page.url()).origin;
    // Its setup tries each way out (synchronously, so the results are in the invariant's message).
    const hostile = IRQL_AS_LOCK.replace(
      "setup: (k) => ({ counter: k.ExAllocatePool2(0, 4, 'Cntr') }),",
      `setup: (k) => {
        const tried: string[] = [];
        const attempt = (name: string, f: () => unknown) => { try { tried.push(name + ':ok:' + String(f())); } catch (e) { tried.push(name + ':' + (e as Error).name); } };
        attempt('indexedDB', () => indexedDB.deleteDatabase('racebox'));
        attempt('xhr', () => { const x = new XMLHttpRequest(); x.open('GET', '${appOrigin}/${CANARY}/user-xhr', false); x.send(); return x.status; });
        attempt('importScripts', () => (globalThis as unknown as { importScripts(u: string): void }).importScripts('${appOrigin}/${CANARY}/user-import'));
        void fetch('${appOrigin}/${CANARY}/user-fetch').catch(() => undefined);
        (globalThis as unknown as { tried: string[] }).tried = tried;
        return { counter: k.ExAllocatePool2(0, 4, 'Cntr') };
      },`,
    ).replace(
      "'no lost update': (s, k) =>",
      "'no lost update': (s, k) => (globalThis as unknown as { tried: string[] }).tried.join(' ') ||",
    );
    expect(hostile).toContain('user-xhr');
    expect(hostile).toContain('.tried.join');
    const { summary } = await exploreInSandbox(page, hostile);
    expect(summary.outcome).toBe('invariant');
    expect(summary.failure?.message).toBe("invariant 'no lost update': indexedDB:SecurityError xhr:NetworkError importScripts:NetworkError");
    await page.waitForTimeout(500);
    expect(arrived).toEqual([]);
    expect(await historyDatabases(page)).toContain('racebox');
  });

  test('a user scenario that loops is ended by terminating its worker, and the sandbox runs the next one', async ({ page }) => {
    await openHost(page);
    const looping = IRQL_AS_LOCK.replace("setup: (k) => ({", "setup: (k) => { for (;;) {} }, unusedSetup: (k) => ({");
    expect(looping).toContain('for (;;) {}');
    const result = await page.evaluate(async ({ looping, source }) => {
      interface Explorer { api: { explore(req: unknown): Promise<{ outcome: string }> }; terminate(): void }
      interface Host {
        openSandbox(): Promise<{ exploreWorker(): Promise<Explorer>; dispose(): void }>;
        presetRig(id: string): unknown;
      }
      const host = (window as unknown as { raceboxSandbox: Host }).raceboxSandbox;
      const request = (src: string) => ({
        scenario: { source: src, filename: 'user-scenario.ts' }, rig: host.presetRig('dual-opteron-240'), strategy: 'random', seed: 1, schedules: 50,
      });
      const sandbox = await host.openSandbox();
      const stuck = await sandbox.exploreWorker();
      let settled = false;
      void stuck.api.explore(request(looping)).finally(() => { settled = true; });
      await new Promise((r) => setTimeout(r, 1000));
      const stuckBeforeTerminate = !settled;
      stuck.terminate();
      const next = await sandbox.exploreWorker();
      const summary = await next.api.explore(request(source));
      next.terminate();
      sandbox.dispose();
      return { stuckBeforeTerminate, outcome: summary.outcome };
    }, { looping, source: IRQL_AS_LOCK });
    expect(result.stuckBeforeTerminate).toBe(true);
    expect(result.outcome).toBe('invariant');
  });
});
