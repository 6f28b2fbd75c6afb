/**
 * Free-run needs memory shared between workers: SharedArrayBuffer and
 * Atomics, which a browser grants only to a cross-origin isolated page
 * (served with COOP: same-origin and COEP: require-corp). The controlled
 * engine needs neither.
 */
export type FreeRunAvailability = { ok: true } | { ok: false; reason: string };

export function freeRunAvailability(): FreeRunAvailability {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') {
    return {
      ok: false,
      reason:
        'Free-run needs SharedArrayBuffer, which this page does not have: the browser grants it only to cross-origin ' +
        'isolated pages (served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp). ' +
        'The controlled engine works without it.',
    };
  }
  const g = globalThis as { crossOriginIsolated?: boolean; window?: unknown };
  if (g.window !== undefined && g.crossOriginIsolated === false) {
    return {
      ok: false,
      reason:
        'Free-run needs shared memory between workers, but this page is not cross-origin isolated (serve it with ' +
        'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp). The controlled engine works without it.',
    };
  }
  if (typeof Worker !== 'function' && g.window !== undefined) {
    return { ok: false, reason: 'Free-run needs Web Workers, which this browser does not provide. The controlled engine works without them.' };
  }
  return { ok: true };
}
