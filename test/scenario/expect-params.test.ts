import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import type { RunSummary } from '../../src/engine/outcome.ts';
import { plainExpect, setupStateOf } from '../../src/engine/setup-state.ts';
import { defineScenario, type ExpectedOutcome } from '../../src/scenario/define.ts';
import { checkExpectation, describeExpected, expectedOutcome } from '../../src/scenario/expect.ts';
import { preset } from '../helpers.ts';

/** An IRP completed twice: MULTIPLE_IRP_COMPLETE_REQUESTS (0x44), parameter 1 = the IRP. */
const doubleComplete = defineScenario<{ irp: number; other: number }>({
  id: 'test/double-complete',
  title: 'double completion',
  description: '',
  family: 'test',
  setup: (k) => ({ other: k.IoAllocateIrp(), irp: k.IoAllocateIrp() }),
  actors: {
    dispatch: {
      *run(k, s) {
        yield* k.IoCompleteRequest(s.irp);
        yield* k.IoCompleteRequest(s.irp);
      },
    },
  },
  expect: [
    { when: { build: 'free' }, outcome: { bugcheck: 'MULTIPLE_IRP_COMPLETE_REQUESTS', params: [(s) => s.other] } },
    { outcome: { bugcheck: 'MULTIPLE_IRP_COMPLETE_REQUESTS', params: [(s) => s.irp, 0, null, 0] } },
  ],
});

function bugcheck(params: number[]): RunSummary {
  return {
    scenario: 's/x', rig: 'r', strategy: 'pct', seed: 1, schedulesRun: 1, steps: 1, elapsedMs: 1, outcome: 'bugcheck',
    failure: { kind: 'bugcheck', bugcheck: { code: 0xc4, name: 'DRIVER_VERIFIER_DETECTED_VIOLATION', params, meaning: '' }, message: '', schedule: '', cpu: 0, routine: '', step: 0, cpus: [] },
  };
}

describe('expect: bug-check parameters', () => {
  it('matches parameters 2–4 by value; null or a shorter list leaves a parameter free', () => {
    const r = bugcheck([0x1001, 0x40, 0x80, 7]);
    expect(checkExpectation({ bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', params: [0x1001, 0x40, 0x80, 7] }, r)).toBeNull();
    expect(checkExpectation({ bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: 0x1001, params: [null, 0x40] }, r)).toBeNull();
    expect(checkExpectation({ bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', params: [null, null, 0x81] }, r)).toMatch(/parameter 3 = 0x81, got 0x80/);
    expect(checkExpectation({ bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', params: [null, null, null, 8] }, r)).toMatch(/parameter 4 = 0x8, got 0x7/);
    expect(describeExpected({ bugcheck: 'X', params: [null, 0x40] })).toBe('bugcheck X (parameter 1 = any, parameter 2 = 0x40)');
  });

  it('a parameter can name an object from setup: s => s.irp is the IRP the bug check reports', () => {
    const rig = preset('dual-opteron-240');
    const r = explore(rig, doubleComplete, { schedules: 1 });
    expect(r.failure?.bugcheck?.name).toBe('MULTIPLE_IRP_COMPLETE_REQUESTS');
    const e = expectedOutcome(doubleComplete, rig)!;
    expect(checkExpectation(e, r, setupStateOf(rig, doubleComplete))).toBeNull();
    // The same failure does not match an expectation naming the other IRP.
    const free = preset('quad-free');
    const rf = explore(free, doubleComplete, { schedules: 1 });
    expect(checkExpectation(expectedOutcome(doubleComplete, free)!, rf, setupStateOf(free, doubleComplete))).toMatch(/parameter 1 = 0x[0-9a-f]+, got 0x[0-9a-f]+/);
    // Without a setup state an object parameter cannot be checked, and says so.
    expect(checkExpectation(e, r)).toMatch(/names an object from setup/);
  });

  it('plainExpect resolves object parameters to the pointers the bug check shows, for another thread', () => {
    const rig = preset('dual-opteron-240');
    const r = explore(rig, doubleComplete, { schedules: 1 });
    const plain = plainExpect(doubleComplete, rig) as { outcome: ExpectedOutcome }[];
    const o = plain[1]!.outcome as { params: readonly unknown[] };
    expect(o.params).toEqual([r.failure!.bugcheck!.params[0], 0, null, 0]);
    expect(checkExpectation(plain[1]!.outcome, r)).toBeNull();
    expect(structuredClone(plain)).toEqual(plain);
  });

  it('defineScenario refuses a malformed parameter list', () => {
    const base = { id: 'test/p', title: 't', description: '', family: 'test', setup: () => ({}), actors: { a: { *run() {} } } };
    expect(() => defineScenario({ ...base, expect: { bugcheck: 'MULTIPLE_IRP_COMPLETE_REQUESTS', params: [1, 2, 3, 4, 5] } })).toThrow(/at most 4/);
    expect(() => defineScenario({ ...base, expect: { bugcheck: 'MULTIPLE_IRP_COMPLETE_REQUESTS', params: ['irp' as never] } })).toThrow(/params\[0\] \(parameter 1\) must be a number, a function/);
    expect(() => defineScenario({ ...base, expect: { bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: 1, params: [2] } })).toThrow(/both parameter 1 and differ/);
  });
});
