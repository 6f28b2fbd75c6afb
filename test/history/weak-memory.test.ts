import './helpers.ts';
import { describe, expect, it } from 'vitest';
import type { TraceStep } from '../../src/engine/trace.ts';
import { addRun, exportHistory, getRun, getTrace, importHistory, listUserRigs, putUserRig, HistoryValidationError } from '../../src/history/index.ts';
import { presetRig } from '../../src/machine/presets.ts';
import { failure, fresh, sampleRun } from './helpers.ts';

const arm64 = presetRig('arm64-quad')!;

/** A weak-memory failure's trace: a buffered store, a stale read, and the flush that drained the store. */
const weakSteps: TraceStep[] = [
  { step: 0, cpu: 0, what: 'step', context: 'writer', kind: 'thread', op: 'write', address: 's.data', word: 40, routine: 'WriteNoFence', irql: 0, wrote: 1, buffered: true, visibleAt: 2 },
  { step: 1, cpu: 1, what: 'step', context: 'reader', kind: 'thread', op: 'read', address: 's.data', word: 40, routine: 'ReadNoFence', irql: 0, read: 0, stale: { newest: 1, newestStep: 0, newestCpu: 0 } },
  { step: 2, cpu: 0, what: 'flush', context: 'writer', kind: 'flush', op: 'flush', address: 's.data', word: 40, routine: '', irql: 0, wrote: 1, storedAt: 0 },
];

describe('weak memory in the history', () => {
  it('keeps an arm64 user rig through save, export and import', async () => {
    const a = await fresh();
    await putUserRig(a, { id: 'my-arm', title: 'My ARM box', cores: 2, arch: 'arm64', hal: 'mp', build: 'checked' });
    expect((await listUserRigs(a)).map((r) => [r.id, r.arch])).toEqual([['my-arm', 'arm64']]);
    const b = await fresh();
    await importHistory(b, JSON.stringify(await exportHistory(a)));
    expect((await listUserRigs(b)).map((r) => [r.id, r.arch])).toEqual([['my-arm', 'arm64']]);
  });

  it('fills in x64 for a user rig saved without an architecture', async () => {
    const h = await fresh();
    await putUserRig(h, { id: 'old-box', title: 'Old box', cores: 2, hal: 'mp', build: 'free' });
    expect((await listUserRigs(h))[0]!.arch).toBe('x64');
  });

  it('stores a failure with its reorderings and a trace with buffered stores, flushes and stale reads', async () => {
    const h = await fresh();
    const reorderings = ["CPU 1 read s.data = 0 at step 2, but CPU 0's WriteNoFence of 1 (step 1) was not yet visible to it"];
    const id = await addRun(h, { ...sampleRun({ rig: arm64, outcome: 'invariant' }), failure: { ...failure('invariant'), invariant: 'data published', reorderings } }, { trace: weakSteps });
    const run = await getRun(h, id);
    expect(run?.rig.arch).toBe('arm64');
    expect(run?.failure?.reorderings).toEqual(reorderings);
    expect(await getTrace(h, id)).toEqual(weakSteps);
    const b = await fresh();
    await importHistory(b, JSON.stringify(await exportHistory(h)));
    expect((await getRun(b, 1))?.failure?.reorderings).toEqual(reorderings);
    expect(await getTrace(b, 1)).toEqual(weakSteps);
  });

  it('refuses a malformed stale read or reordering list on import', async () => {
    const h = await fresh();
    await addRun(h, sampleRun({ rig: arm64, outcome: 'invariant' }), { trace: weakSteps });
    const doc = await exportHistory(h);
    const bad = JSON.parse(JSON.stringify(doc)) as typeof doc;
    (bad.traces![0]!.steps[1]!.stale as unknown as { newest: string }).newest = 'one';
    const err = await importHistory(await fresh(), JSON.stringify(bad)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryValidationError);
    expect(String((err as Error).message)).toMatch(/stale\.newest/);
    const bad2 = JSON.parse(JSON.stringify(doc)) as typeof doc;
    (bad2.runs[0]!.failure as unknown as { reorderings: unknown }).reorderings = 'not a list';
    const err2 = await importHistory(await fresh(), JSON.stringify(bad2)).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(HistoryValidationError);
    expect(String((err2 as Error).message)).toMatch(/reorderings/);
  });
});
