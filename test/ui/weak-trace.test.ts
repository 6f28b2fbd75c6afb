import { describe, expect, it } from 'vitest';
import type { TraceStep } from '../../src/engine/trace.ts';
import { describeOp } from '../../src/ui/lib/step-text.ts';
import { buildTimeline } from '../../src/ui/lib/trace-model.ts';
import { describeBufferedStore, describeStaleRead, hasWeakSteps, weakNote, weakTrace } from '../../src/ui/lib/weak-trace.ts';

const DATA = 100;
const READY = 101;

function at(step: number, cpu: number, op: string, extra: Partial<TraceStep> = {}): TraceStep {
  return { step, cpu, what: 'step', context: cpu === 0 ? 'writer' : 'reader', kind: 'thread', op, routine: cpu === 0 ? 'writer' : 'reader', irql: 0, ...extra };
}

/**
 * Message passing gone wrong: CPU 0 stores s.data = 1 (buffered), then s.ready = 1 (visible at once);
 * CPU 1 reads s.ready = 1, then s.data = 0 although 1 was already stored; later s.data's store drains.
 */
function publish(): TraceStep[] {
  return [
    at(0, 0, 'write', { address: 's.data', word: DATA, wrote: 1, buffered: true }),
    at(1, 0, 'write', { address: 's.ready', word: READY, wrote: 1 }),
    at(2, 1, 'read', { address: 's.ready', word: READY, read: 1 }),
    at(3, 1, 'read', { address: 's.data', word: DATA, read: 0, stale: { newest: 1, newestStep: 0, newestCpu: 0 } }),
    { step: 4, cpu: 0, what: 'flush', context: 'writer', kind: 'flush', op: 'flush', routine: '', irql: 0, address: 's.data', word: DATA, wrote: 1, storedAt: 0 },
    at(4, 1, 'write', { address: 's.seen', word: 102, wrote: 0 }),
  ];
}

describe('weak memory in a trace', () => {
  it('pairs each buffered store with the flush that made it visible', () => {
    const w = weakTrace(publish());
    expect(w.stores).toEqual([{ cpu: 0, from: 0, to: 4, visible: true, visibleStep: 4, address: 's.data', value: 1 }]);
    expect(w.byFlush.get(4)).toBe(w.stores[0]);
    expect(w.byStore.get(0)).toBe(w.stores[0]);
    expect(w.stale).toEqual([{ at: 3, cpu: 1, store: 0 }]);
  });

  it('keeps a store that never drained open to the end of the trace', () => {
    const steps = publish().filter((s) => s.what !== 'flush');
    const [b] = weakTrace(steps).stores;
    expect(b).toMatchObject({ from: 0, to: steps.length, visible: false });
    expect(describeBufferedStore(steps, b!)).toBe("CPU 0's store of s.data = 1 (step 1) was still in its store buffer when the trace ended: no other CPU could see it");
  });

  it('takes the step a barrier or interlocked access drained a store at from visibleAt', () => {
    const steps = publish().filter((s) => s.what !== 'flush');
    steps[0] = { ...steps[0]!, visibleAt: 4 };
    const w = weakTrace(steps);
    expect(w.stores[0]).toMatchObject({ from: 0, to: 4, visible: true, visibleStep: 4 });
    expect(describeBufferedStore(steps, w.stores[0]!)).toBe("CPU 0's store of s.data = 1 (step 1) waited in its store buffer: the other CPUs could see it only from step 5");
    // Drained at the end of the run, after the last entry: drawn to the end.
    steps[0] = { ...steps[0]!, visibleAt: 9 };
    expect(weakTrace(steps).stores[0]).toMatchObject({ to: steps.length, visible: true, visibleStep: 9 });
  });

  it('matches a flush to the oldest open store of its CPU and word when its store step is not in the trace', () => {
    const steps = publish();
    const second = at(5, 0, 'write', { address: 's.data', word: DATA, wrote: 2, buffered: true });
    const flush: TraceStep = { ...steps[4]!, step: 6, storedAt: 99 };
    const w = weakTrace([...steps.slice(0, 4), second, flush]);
    expect(w.stores.map((b) => [b.from, b.to, b.visible])).toEqual([[0, 5, true], [4, 6, false]]);
  });

  it('says a stale read as the contradiction the reader saw', () => {
    expect(describeStaleRead(publish(), 3)).toBe("CPU 1 read s.ready = 1 but s.data = 0: CPU 0's write of s.data (step 1) was not yet visible");
  });

  it('names the flag stored after the missed store, not a field stored before it', () => {
    // CPU 0 stores s.sig = 7 (visible), then s.data = 1 (buffered), then s.ready = 1; CPU 1 reads s.ready, s.sig, then s.data stale.
    const steps: TraceStep[] = [
      at(0, 0, 'write', { address: 's.sig', word: 99, wrote: 7 }),
      ...publish().slice(0, 3).map((s) => ({ ...s, step: s.step + 1 })),
      at(4, 1, 'read', { address: 's.sig', word: 99, read: 7 }),
      at(5, 1, 'read', { address: 's.data', word: DATA, read: 0, stale: { newest: 1, newestStep: 1, newestCpu: 0 } }),
    ];
    expect(describeStaleRead(steps, 5)).toBe("CPU 1 read s.ready = 1 but s.data = 0: CPU 0's write of s.data (step 2) was not yet visible");
    // Without the flag, the field stored before the missed store explains nothing: the short form.
    const noFlag = steps.filter((s) => s.address !== 's.ready');
    expect(describeStaleRead(noFlag, noFlag.length - 1)).toBe("CPU 1 read s.data = 0: CPU 0's write of 1 to s.data (step 2) was not yet visible to it");
  });

  it('says a stale read without a flag the reader went on', () => {
    const steps = publish().filter((s) => s.address !== 's.ready');
    const i = steps.findIndex((s) => s.stale);
    expect(describeStaleRead(steps, i)).toBe("CPU 1 read s.data = 0: CPU 0's write of 1 to s.data (step 1) was not yet visible to it");
    expect(describeStaleRead(steps, 0)).toBeUndefined();
  });

  it('notes what the memory model did at a step, and nothing at an ordinary step', () => {
    const steps = publish();
    const w = weakTrace(steps);
    expect(weakNote(steps, w, 0)).toBe("CPU 0's store of s.data = 1 (step 1) waited in its store buffer: the other CPUs could see it only from step 5");
    expect(weakNote(steps, w, 4)).toBe("CPU 0's store of s.data = 1 (step 1) becomes visible to the other CPUs");
    expect(weakNote(steps, w, 3)).toMatch(/^CPU 1 read s\.ready = 1 but s\.data = 0/);
    expect(weakNote(steps, w, 1)).toBeUndefined();
    expect(weakNote(steps, w, 99)).toBeUndefined();
  });

  it('describes buffered, stale and flush steps in the one-line form', () => {
    const steps = publish();
    expect(describeOp(steps[0]!)).toBe('wrote 1 to s.data (into its store buffer)');
    expect(describeOp(steps[3]!)).toBe('read 0 from s.data (stale: newest is 1)');
    expect(describeOp(steps[4]!)).toBe('store of s.data = 1 (step 1) becomes visible');
  });

  it('tells weak traces from sequentially consistent ones', () => {
    expect(hasWeakSteps(publish())).toBe(true);
    expect(hasWeakSteps(publish().map(({ buffered: _b, stale: _s, ...s }) => s).filter((s) => s.what !== 'flush'))).toBe(false);
  });

  it('draws a flush as a marker on its CPU, not as a slice of a context', () => {
    const m = buildTimeline(publish(), 2, false);
    expect(m.markers).toContainEqual({ cpu: 0, at: 4, kind: 'flush', label: 'store of s.data becomes visible' });
    expect(m.slices.some((s) => s.context === '')).toBe(false);
  });
});
