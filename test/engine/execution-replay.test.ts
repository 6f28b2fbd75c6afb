import { describe, expect, it } from 'vitest';
import { ControlledRun } from '../../src/engine/controlled.ts';
import { makeStrategy, replay } from '../../src/engine/explore.ts';
import countThenCheck from '../../scenarios/power/count-then-check.ts';
import { preset } from '../helpers.ts';

/**
 * Fair scheduling's bookkeeping (which CPU stepped when, ControlledRun.lastStep) must start afresh with
 * every execution: left over from an earlier execution of the same run, it changed which choices a later
 * one was offered, so the later execution differed from its own replay (DFS then stepped a CPU with
 * nothing to run: "setup threw TypeError … reading 'steps'" at schedule 7191 of power/count-then-check).
 */
describe('each execution of a run is the run its schedule replays', () => {
  for (const strategy of ['random', 'pct', 'dfs'] as const) {
    it(`${strategy}: the 60th to 80th executions of power/count-then-check (a poll loop) replay identically`, () => {
      const rig = preset('dual-opteron-240');
      const run = new ControlledRun(rig, countThenCheck);
      const st = makeStrategy(strategy, 5, 3, 2);
      let checked = 0;
      for (let i = 0; i < 80; i++) {
        if (!st.newExecution(i)) break;
        const x = run.execute(st);
        if (i < 60) continue;
        const schedule = run.scheduleOf(x);
        const again = replay(rig, countThenCheck, schedule).summary;
        expect(again.outcome === 'pass' ? `pass/${again.steps}` : `${again.outcome}: ${again.failure?.message}`).toBe(`pass/${x.steps}`);
        checked++;
      }
      expect(checked).toBe(20);
    });
  }
});
