import { describe, expect, it } from 'vitest';
import { noWorkersLeft, rig, runFree } from './helpers.ts';

// The seed's cancel race for real on two CPU workers: the dispatch routine on CPU 0 sets the cancel routine,
// IoCancelIrp on CPU 1 calls it. Each worker makes its own copy of the routine in setup and knows it by name.
describe('free-run: IRP cancellation across CPU workers', () => {
  it('reproduces MULTIPLE_IRP_COMPLETE_REQUESTS of cancel/no-exchange-check, as the physical test box did', async () => {
    const r = await runFree(rig('dual-opteron-240'), 'cancel/no-exchange-check', { seconds: 30, stallMs: 10_000 });
    expect(r.outcome, r.failure?.message).toBe('bugcheck');
    // The double completion itself (0x44), or 0x48 when the dispatch routine completes the IRP between
    // IoCancelIrp's exchange of the cancel routine and its CurrentLocation check: Windows' order, both real.
    expect([0x44, 0x48]).toContain(r.failure?.bugcheck?.code);
    expect(r.warnings).toEqual([]);
    expect(await noWorkersLeft()).toBe(0);
  }, 60_000);

  it('runs the correct protocol (cancel/manual-protocol) without a failure', async () => {
    const r = await runFree(rig('dual-opteron-240'), 'cancel/manual-protocol', { iterations: 2000, stallMs: 10_000 });
    expect(r.outcome, r.failure?.message).toBe('pass');
    expect(r.iterations).toBe(2000);
    expect(r.warnings).toEqual([]);
    expect(await noWorkersLeft()).toBe(0);
  }, 60_000);
});
