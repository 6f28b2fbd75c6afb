import { describe, expect, it } from 'vitest';
import { acquisitionStep, bugCheckCauseStep } from '../../src/engine/cause.ts';
import { addressName } from '../../src/engine/address-names.ts';
import { ControlledRun } from '../../src/engine/controlled.ts';
import { explore, replay } from '../../src/engine/explore.ts';
import { callStack } from '../../src/engine/source-site.ts';
import type { TraceStep } from '../../src/engine/trace.ts';
import { traceStepsCheck } from '../../src/history/validate.ts';
import { Issues } from '../../src/history/check.ts';
import { bugCheckArgLabels } from '../../src/machine/bugcheck-args.ts';
import { BUGCODES } from '../../src/machine/bugcheck.ts';
import { Machine } from '../../src/machine/machine.ts';
import { RandomStrategy } from '../../src/engine/strategies/random.ts';
import irqlAsLock from '../../scenarios/spinlock/irql-as-lock.ts';
import noExchangeCheck from '../../scenarios/cancel/no-exchange-check.ts';
import abba from '../../scenarios/spinlock/abba.ts';
import naiveTas from '../../scenarios/spinlock/naive-tas.ts';
import { preset } from '../helpers.ts';

function failingTrace(scenario: Parameters<typeof explore>[1], rig = 'dual-opteron-240', strategy: 'portfolio' | 'pct' = 'portfolio') {
  const r = preset(rig);
  const s = explore(r, scenario, { seed: 1, schedules: 2000, strategy });
  expect(s.failure, `${scenario.id} fails on ${rig}`).toBeDefined();
  const x = replay(r, scenario, s.failure!.schedule, { trace: true });
  return { failure: s.failure!, trace: x.execution.trace! };
}

describe('trace values', () => {
  it('a lost update reads as two reads of the same value followed by two writes of the same value', () => {
    const { trace } = failingTrace(irqlAsLock);
    const counter = trace.filter((t) => t.address === 's.counter' && (t.op === 'read' || t.op === 'write'));
    expect(counter.length).toBeGreaterThanOrEqual(4);
    // Every write stores one more than what its own context read last.
    const lastRead = new Map<string, number>();
    for (const t of counter) {
      if (t.op === 'read') {
        expect(t.read).toBeTypeOf('number');
        lastRead.set(t.context, t.read!);
      } else expect(t.wrote).toBe(lastRead.get(t.context)! + 1);
    }
    // Lost: two contexts read the same value, so two writes store the same value.
    const writes = counter.filter((t) => t.op === 'write').map((t) => t.wrote);
    expect(new Set(writes).size).toBeLessThan(writes.length);
  });

  it('an interlocked exchange records old and new, and IRP fields are named as a driver names them', () => {
    const { trace } = failingTrace(noExchangeCheck);
    const xchg = trace.filter((t) => t.address === 'Irp->CancelRoutine' && t.op === 'rmw');
    expect(xchg.length).toBeGreaterThanOrEqual(2);
    for (const t of xchg) {
      expect(t.read).toBeTypeOf('number');
      expect(t.wrote).toBeTypeOf('number');
    }
    // IoCancelIrp exchanges a set routine out: old non-zero, new zero.
    expect(xchg.some((t) => t.read !== 0 && t.wrote === 0)).toBe(true);
    expect(trace.some((t) => t.address === 'Irp->Cancel' && t.op === 'write' && t.wrote === 1)).toBe(true);
    expect(trace.some((t) => t.address === 's.queueLock')).toBe(true);
  });

  it('names a block without a name by its pool tag and offset, and a state field by s.<field>', () => {
    const m = new Machine(preset('dual-opteron-240'));
    m.reset();
    const strm = m.memory.alloc(4, 'Strm');
    const counter = m.memory.alloc(1, 'Cntr');
    m.names.set(counter, 'counter');
    const fields = new Set(['counter']);
    expect(addressName(m, strm + 2, fields)).toBe("pool block 'Strm' +0x8");
    expect(addressName(m, strm, fields)).toBe("pool block 'Strm'");
    expect(addressName(m, counter, fields)).toBe('s.counter');
    m.memory.free(strm);
    expect(addressName(m, strm + 1, fields)).toBe("pool block 'Strm' +0x4 (freed)");
  });

  it('costs nothing when no trace is recorded: no stacks captured, the stack depth restored', () => {
    const limit = Error.stackTraceLimit;
    const run = new ControlledRun(preset('dual-opteron-240'), irqlAsLock);
    const s = new RandomStrategy(3);
    s.newExecution(0);
    run.execute(s, { trace: true });
    expect(Error.stackTraceLimit).toBe(limit);
    s.newExecution(1);
    const x = run.execute(s);
    expect(x.trace).toBeUndefined();
    expect((run as unknown as { m: Machine }).m.captureSites).toBe(false);
  });
});

describe('history', () => {
  it('keeps a trace with values and call stacks: the history accepts what the engine records', () => {
    const { trace } = failingTrace(noExchangeCheck);
    expect(trace.some((t) => t.frames && t.read !== undefined)).toBe(true);
    const issues = new Issues();
    const checked = traceStepsCheck(JSON.parse(JSON.stringify(trace)), '', issues);
    expect(issues.errors).toEqual([]);
    expect(checked).toEqual(trace);
  });
});

describe('call stacks', () => {
  it('every step names its whole stack: actor, helpers and kernel routines, outermost first', () => {
    const { trace } = failingTrace(noExchangeCheck);
    // The cancel routine runs inside IoCancelIrp, called by the canceller's run().
    const nested = trace.find((t) => t.context === 'canceller' && t.frames?.some((f) => f.fn === 'CancelRoutine'));
    expect(nested).toBeDefined();
    const fns = nested!.frames!.map((f) => f.fn);
    expect(fns[0]).toBe('run');
    expect(fns.indexOf('IoCancelIrp')).toBeGreaterThan(0);
    expect(fns.indexOf('CancelRoutine')).toBeGreaterThan(fns.indexOf('IoCancelIrp'));
    const cr = nested!.frames!.find((f) => f.fn === 'CancelRoutine')!;
    expect(cr.file).toMatch(/no-exchange-check\.ts$/);
    expect(cr.line).toBeGreaterThanOrEqual(14);
    expect(cr.line).toBeLessThanOrEqual(21);
    const { trace: lost } = failingTrace(irqlAsLock);
    const helper = lost.find((t) => t.address === 's.counter' && t.context === 'first');
    expect(helper?.frames?.map((f) => f.fn)).toEqual(['run', 'BumpAtDispatch', expect.stringMatching(/^(ReadNoFence|WriteNoFence)$/)]);
  });

  it('parses a browser worker stack: evaluated scenario frames with their lines, kernel routines by name, bundle internals left out', () => {
    const stack = [
      'Error',
      '    at hc.at (http://localhost:4173/assets/explore.worker-Bx1.js:1:2345)',
      '    at Yc (http://localhost:4173/assets/explore.worker-Bx1.js:1:999)',
      '    at hc.KeAcquireSpinLock (http://localhost:4173/assets/explore.worker-Bx1.js:1:9876)',
      '    at KeAcquireSpinLock.next (<anonymous>)',
      '    at Helper (racebox-scenario:/scenarios/spinlock/abba.ts:12:30)',
      '    at Helper.next (<anonymous>)',
      '    at Object.run (racebox-scenario:/scenarios/spinlock/abba.ts:23:30)',
      '    at hc.stepCpu (http://localhost:4173/assets/explore.worker-Bx1.js:1:555)',
    ].join('\n');
    expect(callStack(stack, (n) => n === 'KeAcquireSpinLock')).toEqual([
      { fn: 'run', file: '/scenarios/spinlock/abba.ts', line: 21, column: 30 },
      { fn: 'Helper', file: '/scenarios/spinlock/abba.ts', line: 10, column: 30 },
      { fn: 'KeAcquireSpinLock' },
    ]);
  });
});

describe('causes', () => {
  it('MULTIPLE_IRP_COMPLETE_REQUESTS links to the first completion, by the other path', () => {
    const { failure, trace } = failingTrace(noExchangeCheck);
    expect(failure.bugcheck?.code).toBe(0x44);
    const cause = bugCheckCauseStep(trace, 0x44, failure.bugcheck!.params);
    expect(cause).toBeDefined();
    const first = trace[cause!.index]!;
    expect(first.routine).toBe('IoCompleteRequest');
    expect(cause!.label).toMatch(/first completion/);
    const failing = trace[trace.length - 1]!;
    expect(failing.routine).toBe('IoCompleteRequest');
    expect(first.context).not.toBe(failing.context);
    // It is the start of that call: the context's step before it is not in IoCompleteRequest.
    const before = trace.slice(0, cause!.index).filter((t) => t.context === first.context && t.what === 'step').pop();
    expect(before?.routine).not.toBe('IoCompleteRequest');
  });

  it('a bug check without an earlier cause links nowhere', () => {
    const steps: TraceStep[] = [{ step: 0, cpu: 0, what: 'step', context: 't', kind: 'thread', op: 'read', routine: 't', irql: 0, word: 20, block: 20 }];
    expect(bugCheckCauseStep(steps, 0x4a, [0, 2, 0, 0])).toBeUndefined();
    expect(bugCheckCauseStep(steps, 0x44, [20 * 4, 0, 0, 0])).toBeUndefined();
  });

  it('a deadlock links each waiter to the acquisition of the lock it waits for', () => {
    const { failure, trace } = failingTrace(abba, 'quad-free');
    expect(failure.kind).toBe('deadlock');
    const spinning = (failure.waits ?? []).filter((w) => w.address !== undefined);
    expect(spinning.length).toBeGreaterThan(0);
    for (const w of spinning) {
      const a = acquisitionStep(trace, w);
      expect(a).toBeDefined();
      const s = trace[a!.index]!;
      expect(s.word).toBe(w.address);
      expect(s.context).not.toBe(w.context);
      expect(s.held!.length).toBeGreaterThan(0);
    }
  });
});

describe('causes of a hang on a driver\'s own lock word', () => {
  it('links the spinner to the interlocked step that took the word from 0', { timeout: 60_000 }, () => {
    const { failure, trace } = failingTrace(naiveTas, 'dual-opteron-240', 'pct');
    const w = (failure.waits ?? []).find((x) => x.address !== undefined);
    expect(w).toBeDefined();
    const a = acquisitionStep(trace, w!);
    expect(a).toBeDefined();
    const s = trace[a!.index]!;
    expect(s).toMatchObject({ op: 'rmw', word: w!.address, read: 0 });
    expect(s.wrote).not.toBe(0);
  });
});

describe('bug check parameters', () => {
  it('every bug check the box raises has its four parameters labelled', () => {
    for (const [code] of BUGCODES) {
      const labels = bugCheckArgLabels(code, [code === 0xc2 ? 7 : 0x32, 0, 0, 0]);
      expect(labels).toHaveLength(4);
      for (const l of labels) expect(l, `0x${code.toString(16)}`).not.toMatch(/^Parameter \d$/);
    }
    expect(bugCheckArgLabels(0x44, [0x80, 0, 0, 0])[0]).toBe('Address of the IRP');
    expect(bugCheckArgLabels(0xc4, [0x1004, 0, 0, 0]).slice(1)).toEqual(['Address of the lock', 'Address of the owning thread', 'Address of the releasing thread']);
  });
});
