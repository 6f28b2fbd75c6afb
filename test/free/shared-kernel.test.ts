import { describe, expect, it } from 'vitest';
import { cpusRig, fixture, noWorkersLeft, rig, runFree } from './helpers.ts';

// Kernel families whose cross-processor state lives in machine memory (or the kernel's shared
// words) work across CPU workers: each test runs both ways a CPU worker can drive its routines.
describe('free-run: dispatcher objects and mutexes shared between CPU workers', () => {
  // 'auto' runs plain-function twins here (one thread per CPU): a wait idles inside the scheduling point.
  for (const [mode, runs] of [['auto', 'twin'], ['generators', 'generators']] as const) {
    it(`KMUTEX keeps mutual exclusion across CPUs, 10 x 400 acquisitions (${runs})`, async () => {
      const r = await runFree(cpusRig(2), fixture('kmutex-counter'), { iterations: 10, mode, stallMs: 10_000 });
      expect(r.outcome, r.failure?.message).toBe('pass');
      expect(r.iterations).toBe(10);
      expect(r.cpus.map((c) => c.mode)).toEqual([runs, runs]);
      expect(r.warnings).toEqual([]);
    }, 60_000);

    it(`FAST_MUTEX and KGUARDED_MUTEX keep mutual exclusion across CPUs, 10 x 800 acquisitions (${runs})`, async () => {
      const r = await runFree(cpusRig(2), fixture('fast-mutex-counter'), { iterations: 10, mode, stallMs: 10_000 });
      expect(r.outcome, r.failure?.message).toBe('pass');
      expect(r.iterations).toBe(10);
      expect(r.warnings).toEqual([]);
    }, 60_000);

    it(`ERESOURCE keeps exclusive and shared access apart across CPUs, 10 x 600 acquisitions (${runs})`, async () => {
      const r = await runFree(cpusRig(2), fixture('eresource-counter'), { iterations: 10, mode, stallMs: 10_000 });
      expect(r.outcome, r.failure?.message).toBe('pass');
      expect(r.iterations).toBe(10);
      expect(r.warnings).toEqual([]);
    }, 60_000);

    it(`synchronization events hand a token between CPUs, each wait woken by the other CPU (${runs})`, async () => {
      const r = await runFree(cpusRig(2), fixture('event-pingpong'), { iterations: 10, mode, stallMs: 10_000 });
      expect(r.outcome, r.failure?.message).toBe('pass');
      expect(r.iterations).toBe(10);
      expect(r.warnings).toEqual([]);
    }, 60_000);
  }

  for (const [mode, runs] of [['auto', 'twin'], ['generators', 'generators']] as const) {
    it(`NtSuspendThread / NtResumeThread of a thread on another CPU: counts shared, the worker finishes (${runs})`, async () => {
      const r = await runFree(cpusRig(2), fixture('suspend-cross-cpu'), { iterations: 200, mode, stallMs: 10_000 });
      expect(r.outcome, r.failure?.message).toBe('pass');
      expect(r.iterations).toBe(200);
      expect(r.warnings).toEqual([]);
    }, 60_000);

    it(`a thread suspended from another CPU and never resumed stops there: a hang (${runs})`, async () => {
      const r = await runFree(cpusRig(2), fixture('suspend-forever'), { seconds: 20, mode, stallMs: 1500 });
      expect(r.outcome, r.failure?.message).toBe('hang');
      expect(r.failure?.message).toMatch(/thread 'worker' waits for NtResumeThread/);
      expect(r.warnings).toEqual([]);
    }, 60_000);
  }

  for (const [mode, runs] of [['auto', 'twin'], ['generators', 'generators']] as const) {
    it(`timed waits expire when their CPU idles: a timeout, KeDelayExecutionThread, a timed wait the other CPU may win (${runs})`, async () => {
      const r = await runFree(cpusRig(2), fixture('timed-waits'), { iterations: 50, mode, stallMs: 10_000 });
      expect(r.outcome, r.failure?.message).toBe('pass');
      expect(r.iterations).toBe(50);
    }, 60_000);
  }

  it('a DPC on another CPU wakes the waiting threads (dispatcher/wait-after-release)', async () => {
    const r = await runFree(rig('dual-opteron-240'), 'dispatcher/wait-after-release', { iterations: 200, stallMs: 10_000 });
    expect(r.outcome, r.failure?.message).toBe('pass');
    expect(r.iterations).toBe(200);
    expect(r.warnings).toEqual([]);
  }, 60_000);

  it("finds eresource/release-not-owner, and the report sees the owner another CPU recorded", async () => {
    const r = await runFree(rig('dual-opteron-240'), 'eresource/release-not-owner', { seconds: 20 });
    expect(r.outcome, r.failure?.message).toBe('bugcheck');
    expect(r.failure?.bugcheck?.name).toBe('RESOURCE_NOT_OWNED');
    // The acquire ran on CPU 0's worker, the release on CPU 1's: one owner table for both.
    expect(r.failure?.message).toMatch(/owned exclusive by 'dispatch'/);
    expect(r.warnings).toEqual([]);
  }, 60_000);

  it('finds an IRP completed on both CPUs, and names the completer on the other CPU', async () => {
    const r = await runFree(cpusRig(2), fixture('irp-double-complete'), { seconds: 20 });
    expect(r.outcome, r.failure?.message).toBe('bugcheck');
    expect(r.failure?.bugcheck?.name, r.failure?.message).toBe('MULTIPLE_IRP_COMPLETE_REQUESTS');
    const other = r.failure?.cpu === 0 ? 'b' : 'a';
    expect(r.failure?.message).toContain(`already completed by thread '${other}'`);
    expect(r.warnings).toEqual([]);
  }, 60_000);

  it("cancels IRPs of a cancel-safe queue from the other CPU (cancel/csq: the library's cancel routine is known to every worker)", async () => {
    const r = await runFree(rig('dual-opteron-240'), 'cancel/csq', { iterations: 200, stallMs: 10_000 });
    expect(r.outcome, r.failure?.message).toBe('pass');
    expect(r.iterations).toBe(200);
    expect(r.warnings).toEqual([]);
  }, 60_000);

  it('still finds the recursive fast-mutex acquire (fastmutex/recursive): 0xC4/0x1000 on a checked build, a hang on a free one', async () => {
    const checked = await runFree(rig('dual-opteron-240'), 'fastmutex/recursive', { seconds: 20 });
    expect(checked.outcome, checked.failure?.message).toBe('bugcheck');
    expect(checked.failure?.bugcheck?.params[0]).toBe(0x1000);
    expect(checked.warnings).toEqual([]);
    const free = await runFree(cpusRig(2), 'fastmutex/recursive', { seconds: 20, stallMs: 1500 });
    expect(free.outcome, free.failure?.message).toBe('hang');
    expect(free.warnings).toEqual([]);
    expect(await noWorkersLeft()).toBe(0);
  }, 60_000);
});
