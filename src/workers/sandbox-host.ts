/// <reference types="vite/client" />
/**
 * The page's side of the scenario sandbox (docs/sandbox.md): one hidden opaque-origin frame
 * (public/sandbox.html, served with `connect-src 'none'`) in which user scenario code runs, in workers the
 * frame starts from blob: URLs. The page talks Comlink to each such worker over a MessageChannel whose far
 * end the frame hands to the worker. The frame can load nothing from the app's origin, so everything it runs
 * arrives as text: its runtime (FRAME_RUNTIME, which only starts and ends workers) and the worker's bundle,
 * which the page fetches for it.
 */
import * as Comlink from 'comlink';
import type { SandboxWorkerApi } from './sandbox.worker.ts';
import builtSandboxWorkerUrl from './sandbox.worker.ts?worker&url';

/** The worker's bundle: built by `vite build`; in dev, bundled by vite-plugins/sandbox-frame.ts (SANDBOX_DEV_BUNDLES). */
const sandboxWorkerUrl = import.meta.env.DEV ? '/@racebox-sandbox/sandbox.worker.js' : builtSandboxWorkerUrl;

export const SANDBOX_FRAME_URL = '/sandbox.html';

/**
 * Runs in the frame (as a blob: module; the loader calls start with the control port). Messages on the
 * control port: { type: 'spawn', id, source } with the worker's MessagePort, { type: 'terminate', id }.
 * Workers are classic scripts that import() their module: module workers from blob: URLs do not start in an
 * opaque-origin frame (Chromium), classic ones do, and they keep cross-origin isolation.
 */
const FRAME_RUNTIME = `
export function start(control) {
  const workers = new Map();
  const blobUrl = (text) => URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
  const fail = (id, message) => control.postMessage({ type: 'error', id, message });
  control.onmessage = (event) => {
    const m = event.data;
    if (m.type === 'terminate') {
      workers.get(m.id)?.terminate();
      workers.delete(m.id);
      return;
    }
    if (m.type !== 'spawn') return;
    const port = event.ports[0];
    const moduleUrl = blobUrl(m.source);
    let worker;
    if (m.relay) {
      // A module that exposes its API on self (Comlink's default): messages that arrive before it has loaded
      // are kept and dispatched again once it has, and the frame relays between the port and the worker.
      const loader = blobUrl('const q = []; const keep = (e) => q.push(e); addEventListener("message", keep);' +
        'import(' + JSON.stringify(moduleUrl) + ').then(() => { removeEventListener("message", keep);' +
        ' for (const e of q) dispatchEvent(new MessageEvent("message", { data: e.data, ports: [...e.ports] })); },' +
        ' (e) => { throw new Error("the sandbox worker did not load: " + ((e && e.message) || e)); });');
      worker = new Worker(loader, { name: m.name });
      worker.onmessage = (e) => port.postMessage(e.data, [...e.ports]);
      port.onmessage = (e) => worker.postMessage(e.data, [...e.ports]);
      control.postMessage({ type: 'spawned', id: m.id });
    } else {
      const loader = blobUrl('import(' + JSON.stringify(moduleUrl) + ').catch((e) => postMessage({ loadError: String((e && e.message) || e) }));');
      worker = new Worker(loader, { name: m.name });
      worker.onmessage = (e) => {
        URL.revokeObjectURL(loader);
        URL.revokeObjectURL(moduleUrl);
        worker.onmessage = null;
        if (e.data === 'ready') {
          // Its own source goes with the port: a coordinator starts workers of the same bundle.
          worker.postMessage({ source: m.source }, [port]);
          control.postMessage({ type: 'spawned', id: m.id });
        } else {
          fail(m.id, (e.data && e.data.loadError) || 'the sandbox worker did not start');
        }
      };
    }
    workers.set(m.id, worker);
    worker.onerror = (e) => fail(m.id, e.message || 'the sandbox worker failed');
  };
  control.postMessage({ type: 'started', crossOriginIsolated: self.crossOriginIsolated });
}
`;
type FrameMessage =
  | { type: 'started'; crossOriginIsolated: boolean }
  | { type: 'spawned'; id: number }
  | { type: 'error'; id?: number; message: string };

export interface SandboxWorker<T = SandboxWorkerApi> {
  api: Comlink.Remote<T>;
  /** Ends the worker at once (the frame terminates it) and rejects `ended`. */
  terminate(): void;
  /**
   * Rejects when the worker is terminated or fails after it started. A Comlink call to a worker that is gone
   * never settles: race a call with this (`Promise.race([w.api.f(), w.ended])`).
   */
  ended: Promise<never>;
}

export interface Sandbox {
  /** Whether the frame is cross-origin isolated (SharedArrayBuffer, Atomics.wait): free-run needs it. */
  readonly crossOriginIsolated: boolean;
  /** A new worker inside the frame (sandbox.worker.ts); it runs user scenarios (`{ source, filename }`) only. */
  exploreWorker(name?: string): Promise<SandboxWorker>;
  /**
   * A worker inside the frame running the built module at `url` (same origin; fetched by the page, sent as
   * text), which exposes its API on `self` with Comlink; the frame relays between it and the page.
   */
  relayWorker<T>(url: string, name: string): Promise<SandboxWorker<T>>;
  /** Ends every worker and removes the frame. */
  dispose(): void;
}

export interface SandboxOptions {
  /** Where the frame is attached (default document.body). */
  parent?: HTMLElement;
  /** How long the frame and each worker may take to start (default 10 s). */
  startTimeoutMs?: number;
}

const sources = new Map<string, Promise<string>>();
function builtSource(url: string): Promise<string> {
  let p = sources.get(url);
  if (!p) {
    p = fetch(url).then((r) => {
      if (!r.ok) throw new Error(`the sandbox worker could not be loaded (${r.status} ${url})`);
      return r.text();
    });
    p.catch(() => sources.delete(url));
    sources.set(url, p);
  }
  return p;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Creates the frame and waits until its runtime runs. */
export async function openSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const frame = document.createElement('iframe');
  // allow-scripts only: an opaque origin (no storage), no popups, no navigation of the app.
  frame.setAttribute('sandbox', 'allow-scripts');
  // An opaque frame is cross-origin to the page: cross-origin isolation must be delegated to it.
  frame.setAttribute('allow', 'cross-origin-isolated');
  frame.hidden = true;
  frame.title = 'Racebox scenario sandbox';
  const control = new MessageChannel();
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  /** Live workers: told when the frame reports that one failed after it started. */
  const live = new Map<number, (e: Error) => void>();
  let onStarted: (m: { crossOriginIsolated: boolean }) => void = () => {};
  let onStartFailed: (e: Error) => void = () => {};
  control.port1.onmessage = (event: MessageEvent<FrameMessage>) => {
    const m = event.data;
    if (m.type === 'started') onStarted(m);
    else if (m.type === 'spawned') pending.get(m.id)?.resolve();
    else if (m.id !== undefined) {
      pending.get(m.id)?.reject(new Error(m.message));
      live.get(m.id)?.(new Error(m.message));
    }
    else onStartFailed(new Error(m.message));
  };
  const onWindowMessage = (event: MessageEvent): void => {
    if (event.source !== frame.contentWindow) return;
    const data = event.data as { type?: string; message?: string } | null;
    if (data?.type === 'racebox-sandbox-ready') {
      // An opaque origin matches no target origin but '*'; the runtime and a port are not secrets.
      frame.contentWindow!.postMessage({ type: 'racebox-sandbox-init', runtime: FRAME_RUNTIME }, '*', [control.port2]);
    } else if (data?.type === 'racebox-sandbox-error') {
      onStartFailed(new Error(`the scenario sandbox failed to start: ${data.message}`));
    }
  };
  addEventListener('message', onWindowMessage);
  const started = new Promise<{ crossOriginIsolated: boolean }>((resolve, reject) => {
    onStarted = resolve;
    onStartFailed = reject;
  });
  frame.src = SANDBOX_FRAME_URL;
  (options.parent ?? document.body).append(frame);

  const dispose = (): void => {
    removeEventListener('message', onWindowMessage);
    control.port1.close();
    frame.remove();
    for (const p of pending.values()) p.reject(new Error('the scenario sandbox was closed'));
    pending.clear();
    for (const end of [...live.values()]) end(new Error('the scenario sandbox was closed'));
    live.clear();
  };
  let info: { crossOriginIsolated: boolean };
  try {
    info = await within(started, timeoutMs, 'the scenario sandbox');
  } catch (e) {
    dispose();
    throw e;
  }

  let nextId = 1;
  async function spawn<T>(url: string, name: string, relay: boolean): Promise<SandboxWorker<T>> {
    const source = await builtSource(url);
    const id = nextId++;
    const channel = new MessageChannel();
    const spawned = new Promise<void>((resolve, reject) => pending.set(id, { resolve, reject }));
    control.port1.postMessage({ type: 'spawn', id, name, source, relay }, [channel.port2]);
    let end: (e: Error) => void = () => {};
    const ended = new Promise<never>((_, reject) => {
      end = reject;
    });
    ended.catch(() => undefined);
    let gone = false;
    const finish = (e: Error): void => {
      if (gone) return;
      gone = true;
      live.delete(id);
      control.port1.postMessage({ type: 'terminate', id });
      channel.port1.close();
      end(e);
    };
    live.set(id, finish);
    const terminate = (): void => finish(Object.assign(new Error('the sandbox worker was terminated'), { name: 'AbortError' }));
    try {
      await within(spawned, timeoutMs, 'the sandbox worker');
    } catch (e) {
      terminate();
      throw e;
    } finally {
      pending.delete(id);
    }
    return { api: Comlink.wrap<T>(channel.port1), terminate, ended };
  }
  return {
    crossOriginIsolated: info.crossOriginIsolated,
    exploreWorker: (name = 'racebox-sandbox') => spawn<SandboxWorkerApi>(sandboxWorkerUrl, name, false),
    relayWorker: <T>(url: string, name: string) => spawn<T>(url, name, true),
    dispose,
  };
}
