import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { preset } from '../helpers.ts';
import concurrentSelf from '../../scenarios/dpc/concurrent-self.ts';
import concurrentSelfLocked from '../../scenarios/dpc/concurrent-self-locked.ts';

describe('one KDPC queued from interrupts on two processors', () => {
  it('runs on two processors at once on MP and loses an unprotected update', () => {
    const r = explore(preset('dual-opteron-240'), concurrentSelf, { schedules: 500 });
    expect(r.failure?.invariant).toBe('no lost update');
  });
  it('is serialized on a uniprocessor', () => {
    expect(explore(preset('uniprocessor'), concurrentSelf, { schedules: 200 }).outcome).toBe('pass');
  });
  it('with a spin lock taken at DPC level no update is lost', () => {
    expect(explore(preset('dual-opteron-240'), concurrentSelfLocked, { schedules: 200 }).outcome).toBe('pass');
  });
});
