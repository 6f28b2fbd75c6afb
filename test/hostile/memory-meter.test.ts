/**
 * The sandbox workers' memory watchdog (src/workers/memory-meter.ts): live ArrayBuffers are counted through
 * their constructors and a typed array's, and one that would cross the limit is refused; the job then ends as
 * outcome error naming the limit (async-faults.ts), even if the scenario caught the refusal.
 */
import { describe, expect, it } from 'vitest';
import { withAsyncFaults } from '../../src/workers/async-faults.ts';
import { installBufferMeter } from '../../src/workers/memory-meter.ts';
import type { RunSummary } from '../../src/engine/outcome.ts';

/** A stand-in for a worker's global object, holding the real constructors. */
function scope(): typeof globalThis {
  return { ArrayBuffer, SharedArrayBuffer, Uint8Array, Int32Array, Float64Array } as unknown as typeof globalThis;
}

const pass: RunSummary = { scenario: 'user/x', rig: 'dual-opteron-240', strategy: 'random', seed: 1, schedulesRun: 3, steps: 30, elapsedMs: 1, outcome: 'pass' };

describe('sandbox memory meter', () => {
  it('counts buffers made through the constructors once each, and refuses the one over the limit', () => {
    const g = scope() as unknown as Record<string, new (...a: unknown[]) => { buffer?: ArrayBuffer }>;
    const meter = installBufferMeter(g as unknown as typeof globalThis, 1);
    const a = new g.Uint8Array!(512 * 1024);
    expect(meter.live).toBe(512 * 1024);
    // A view over a buffer already counted allocates nothing.
    new g.Int32Array!(a.buffer);
    new g.ArrayBuffer!(256 * 1024);
    expect(meter.live).toBe(768 * 1024);
    expect(a).toBeInstanceOf(Uint8Array);
    expect(() => new g.Float64Array!(64 * 1024)).toThrow(/the sandbox memory limit of 1 MB of ArrayBuffers per worker \(it asked for 1 MB more with 1 MB live\)/);
    expect(meter.live).toBe(768 * 1024);
    // Caught or not, the job ends as error naming the limit, once.
    const r = withAsyncFaults(pass);
    expect(r.outcome).toBe('error');
    expect(r.failure?.message).toMatch(/^the scenario used more than the sandbox memory limit of 1 MB/);
    expect(withAsyncFaults(pass).outcome).toBe('pass');
  });

  it('installs once per scope', () => {
    const g = scope();
    expect(installBufferMeter(g, 5)).toBe(installBufferMeter(g, 7));
  });
});
