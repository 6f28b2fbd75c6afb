import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { Kernel } from '../../src/kernel/kernel.ts';
import { stateReaderNames, type StateReaderName } from '../../src/kernel/state-readers.ts';
import { NotificationEvent } from '../../src/kernel/status.ts';
import { checkScenarioCode } from '../../src/scenario/check-source.ts';
import { CHECKED_MP, FREE_MP, scn } from '../helpers.ts';

/** KeReadStateEvent, KeReadStateMutex and KeReadStateSemaphore in invariants: plain reads, no yield*. */
describe('KeReadState* readers from invariants', () => {
  const s = scn<{ ev: number; idle: number; mtx: number; sem: number; log: number[] }>({
    setup: (k) => ({
      ev: k.KeInitializeEvent(NotificationEvent, false),
      idle: k.KeInitializeEvent(NotificationEvent, false),
      mtx: k.KeInitializeMutex(),
      sem: k.KeInitializeSemaphore(0, 5),
      log: [],
    }),
    actors: {
      a: {
        *run(k, s) {
          yield* k.KeSetEvent(s.ev, 0, false);
          yield* k.KeReleaseSemaphore(s.sem, 0, 3, false);
          yield* k.KeWaitForSingleObject(s.mtx, 0, 0, false, null);
          yield* k.KeReleaseMutex(s.mtx, false);
          // In driver code the readers stay routines.
          s.log.push(yield* k.KeReadStateSemaphore(s.sem));
        },
      },
    },
    invariants: {
      'event signalled': (s, k) => k.KeReadStateEvent(s.ev) === 1 || `state ${k.KeReadStateEvent(s.ev)}`,
      'other event not signalled': (s, k) => k.KeReadStateEvent(s.idle) === 0,
      'semaphore count': (s, k) => k.KeReadStateSemaphore(s.sem) === 3 || `count ${k.KeReadStateSemaphore(s.sem)}`,
      'mutex free': (s, k) => k.KeReadStateMutex(s.mtx) === 1 || `state ${k.KeReadStateMutex(s.mtx)}`,
      'the actor read it as a routine': (s) => s.log[0] === 3,
    },
  });

  it('return the state at once (checked and free builds, every strategy)', () => {
    for (const rig of [CHECKED_MP, FREE_MP]) {
      for (const strategy of ['pct', 'random', 'dfs'] as const) {
        const r = explore(rig, s, { strategy, schedules: 3 });
        expect(r.outcome === 'pass' ? 'pass' : r.failure?.message).toBe('pass');
      }
    }
  });

  it('a wrong value fails the invariant, so the read is real', () => {
    const wrong = scn<{ ev: number }>({
      setup: (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false) }),
      actors: { a: { *run(k, s) { yield* k.KeClearEvent(s.ev); } } },
      invariants: { 'event signalled': (s, k) => k.KeReadStateEvent(s.ev) === 1 },
    });
    const r = explore(CHECKED_MP, wrong, { schedules: 1 });
    expect(r.outcome).toBe('invariant');
    expect(r.failure?.invariant).toBe('event signalled');
  });

  it('the scenario checker accepts them in an invariant and still refuses them in an actor without yield*', () => {
    const code = (body: string) => `import { defineScenario } from 'racebox';
export const inv = { 'set': (s, k) => k.KeReadStateEvent(s.ev) === 1 };
export default defineScenario({ id: 't/x', title: 't', description: '', family: 't', expect: 'pass',
  setup: (k) => ({ ev: k.KeInitializeEvent(0, false) }),
  actors: { a: { *run(k, s) { ${body} } } },
  invariants: { 'inline': (s, k) => k.KeReadStateSemaphore(s.ev) === 0 && k.KeReadStateMutex(s.ev) !== 2, ...inv },
});`;
    expect(checkScenarioCode(code('yield* k.KeSetEvent(s.ev, 0, false);'))).toEqual([]);
    const bad = checkScenarioCode(code('const x = k.KeReadStateEvent(s.ev);'));
    expect(bad).toHaveLength(1);
    expect(bad[0]!.message).toMatch(/KeReadStateEvent.*without yield\* it never runs/);
  });

  it('every KeReadState* routine of the kernel has a plain reader', () => {
    const routines = Object.getOwnPropertyNames(Kernel.prototype).filter((n) => n.startsWith('KeReadState')).sort();
    expect(stateReaderNames().sort()).toEqual(expect.arrayContaining(routines));
    const typed: StateReaderName[] = ['KeReadStateEvent', 'KeReadStateMutex', 'KeReadStateSemaphore'];
    expect(stateReaderNames().sort()).toEqual(expect.arrayContaining(typed));
  });
});
