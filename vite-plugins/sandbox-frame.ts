/**
 * Serves public/sandbox.html, the frame user scenario code runs in, with its own headers (dev and preview).
 * Vite's `server.headers`/`preview.headers` apply to every path alike; this frame needs a stricter policy than
 * the app, so a middleware adds it for this one path. A static host must send the same headers: see
 * docs/sandbox.md, and `sandboxFrameHeaders` for their exact values.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { build, type Plugin } from 'vite';

export const SANDBOX_FRAME_PATH = '/sandbox.html';

/** The hash CSP uses to allow the frame's one inline script (the loader). */
export function inlineScriptHash(html: string): string {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  if (scripts.length !== 1) throw new Error(`sandbox.html must have exactly one inline <script> (found ${scripts.length})`);
  return `'sha256-${createHash('sha256').update(scripts[0]![1]!, 'utf8').digest('base64')}'`;
}

/**
 * The frame's response headers, each needed (docs/sandbox.md has what was observed without each):
 * - CSP `sandbox allow-scripts`: an opaque origin even if the document is opened outside its iframe;
 * - `connect-src 'none'`: no fetch, XHR, WebSocket, EventSource or beacon, inherited by its blob: workers;
 * - `script-src` the loader's hash, `blob:` (runtime and scenario modules, worker scripts) and `'unsafe-eval'`
 *   (a user scenario is evaluated with `new Function`; eval grants no network and no storage);
 * - COEP `require-corp`: a cross-origin-isolated page may embed only documents that also require CORP.
 */
export function sandboxFrameHeaders(html: string): Record<string, string> {
  const csp = [
    'sandbox allow-scripts',
    "default-src 'none'",
    `script-src ${inlineScriptHash(html)} blob: 'unsafe-eval'`,
    'worker-src blob:',
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': csp,
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  };
}

function middleware(htmlFile: string) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const path = (req.url ?? '').split('?')[0];
    if (path === SANDBOX_FRAME_PATH) {
      // Read on each request: in dev the file may change under the server, and the hash with it.
      for (const [name, value] of Object.entries(sandboxFrameHeaders(readFileSync(htmlFile, 'utf8')))) res.setHeader(name, value);
    }
    next();
  };
}

/**
 * Workers the sandbox runs, by the path the dev server gives their bundles. The frame can load nothing from the
 * app's origin: it gets each worker as the text of one self-contained module. `vite build` makes those
 * (`?worker&url`); the dev server's modules import `/src/…` paths instead, so in dev this plugin bundles them
 * itself (src/workers/sandbox-host.ts and src/ui/services/check-runner.ts ask for these paths when DEV).
 */
export const SANDBOX_DEV_BUNDLES: Record<string, string> = {
  '/@racebox-sandbox/sandbox.worker.js': 'src/workers/sandbox.worker.ts',
  '/@racebox-sandbox/check.worker.js': 'src/ui/editor/check.worker.ts',
};

async function bundle(root: string, entry: string): Promise<string> {
  const out = await build({
    root,
    configFile: false,
    logLevel: 'silent',
    resolve: { alias: { racebox: resolve(root, 'src/scenario/index.ts') } },
    build: {
      write: false,
      minify: false,
      target: 'es2022',
      rolldownOptions: { input: resolve(root, entry), output: { format: 'es', codeSplitting: false, keepNames: true } },
    },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as { output: { type: string; code?: string }[] }[];
  const chunk = outputs[0]?.output.find((o) => o.type === 'chunk');
  if (!chunk?.code) throw new Error(`no bundle for ${entry}`);
  return chunk.code;
}

/** The hash is computed from the file the server sends: public/ in dev, the built copy in preview. */
export function sandboxFrame(): Plugin {
  return {
    name: 'racebox-sandbox-frame',
    configureServer(server) {
      const { publicDir, root } = server.config;
      server.middlewares.use(middleware(resolve(publicDir, SANDBOX_FRAME_PATH.slice(1))));
      server.middlewares.use((req, res, next) => {
        const entry = SANDBOX_DEV_BUNDLES[(req.url ?? '').split('?')[0] ?? ''];
        if (!entry) return next();
        // Built on each request: in dev the sources change under the server (a few seconds, once per page load).
        bundle(root, entry).then(
          (code) => {
            res.setHeader('Content-Type', 'text/javascript');
            res.setHeader('Cache-Control', 'no-cache');
            res.end(code);
          },
          (e: unknown) => {
            res.statusCode = 500;
            res.end(String((e as Error)?.message ?? e));
          },
        );
      });
    },
    configurePreviewServer(server) {
      const { root, build } = server.config;
      server.middlewares.use(middleware(resolve(root, build.outDir, SANDBOX_FRAME_PATH.slice(1))));
    },
  };
}
