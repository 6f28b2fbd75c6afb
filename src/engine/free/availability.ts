/**
 * Free-run needs memory shared between workers: SharedArrayBuffer and
 * Atomics, which a browser grants only to a cross-origin isolated page
 * (served with COOP: same-origin and COEP: require-corp). The controlled
 * engine needs neither.
 */
import type { Rig } from '../../machine/rig.ts';

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

/**
 * How many CPU workers free-run starts on a host: one per logical CPU of the rig, and no more than
 * eight per host core. Past that, every worker is a thread of its own that loads the scenario and
 * then spins on a core it shares with many others: a 64-CPU rig on a 2-core host took a minute to
 * start and then failed as bad input. Refused up front instead, with what the host can start.
 */
export const FREE_RUN_WORKERS_PER_HOST_CORE = 8;

/** Why this host cannot free-run a rig with `cpus` online CPUs, or null when it can. */
export function freeRunCpuLimit(cpus: number, host: number): string | null {
  const max = Math.max(2, FREE_RUN_WORKERS_PER_HOST_CORE * host);
  if (cpus <= max) return null;
  return `free-run starts one worker per logical CPU: this rig has ${cpus} online CPUs, and this host (${host} core${host === 1 ? '' : 's'}) starts at most ${max} (${FREE_RUN_WORKERS_PER_HOST_CORE} per core). Explore it with the controlled engine, which runs any rig, or free-run a rig with at most ${max} CPUs`;
}

/**
 * Free-run performs every access with the host's Atomics, which are sequentially consistent: on an
 * arm64 rig it would show none of the reorderings the rig stands for, and a clean free-run would
 * say nothing about them. Refused, with this reason. (On x64 rigs free-run stays: sequential
 * consistency is a subset of TSO's behaviours, so what it finds is real; it does not explore
 * store buffering, which the controlled engine does.)
 */
export const FREE_RUN_ARM64 =
  "free-run runs on the host's processors, whose Atomics are sequentially consistent: it cannot show ARM64 reorderings; use the controlled engine";

/** Why free-run cannot run `rig` whatever the host, or null when it can. */
export function freeRunRigRefusal(rig: Pick<Rig, 'arch'>): string | null {
  return rig.arch === 'arm64' ? FREE_RUN_ARM64 : null;
}
