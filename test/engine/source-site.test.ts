import { describe, expect, it } from 'vitest';
import { formatSite, scenarioSite } from '../../src/engine/source-site.ts';
import { scenarioFromSource } from '../../src/workers/scenario-source.ts';
import { ControlledRun } from '../../src/engine/controlled.ts';
import { RandomStrategy } from '../../src/engine/strategies/random.ts';
import { presetRig } from '../../src/machine/presets.ts';

describe('scenario source sites', () => {
  it('a Node stack: the first frame outside the box, none once the engine is reached', () => {
    const stack = [
      'Error',
      '    at Machine.at (/work/main/src/machine/machine.ts:170:5)',
      '    at Kernel.KeAcquireSpinLock (/work/main/src/kernel/spinlock.ts:120:13)',
      '    at run (/home/me/drivers/my-race.ts:14:22)',
      '    at Machine.stepCpu (/work/main/src/machine/machine.ts:380:21)',
      '    at ControlledRun.execute (/work/main/src/engine/controlled.ts:200:9)',
    ].join('\n');
    expect(scenarioSite(stack)).toEqual({ file: '/home/me/drivers/my-race.ts', line: 14, column: 22 });
    const fromEngine = ['Error', '    at ControlledRun.checkInvariants (/work/main/src/engine/controlled.ts:260:1)', '    at test (/work/main/test/helpers.ts:42:3)'].join('\n');
    expect(scenarioSite(fromEngine)).toBeUndefined();
  });

  it('a browser worker stack: bundle frames are skipped, an evaluated scenario names its own line', () => {
    const stack = [
      'Error',
      '    at hc.at (http://localhost:4173/assets/explore.worker-Bx1.js:1:2345)',
      '    at hc.KeAcquireSpinLock (http://localhost:4173/assets/explore.worker-Bx1.js:1:9876)',
      '    at run (racebox-scenario:/scenarios/spinlock/abba.ts:23:30)',
      '    at hc.stepCpu (http://localhost:4173/assets/explore.worker-Bx1.js:1:555)',
    ].join('\n');
    // new Function adds two header lines before the scenario's first line.
    expect(scenarioSite(stack)).toEqual({ file: '/scenarios/spinlock/abba.ts', line: 21, column: 30 });
    const bundleOnly = ['Error', '    at hc.at (http://localhost:4173/assets/explore.worker-Bx1.js:1:2345)'].join('\n');
    expect(scenarioSite(bundleOnly)).toBeUndefined();
  });

  it('a scenario evaluated from source reports its real lines in a trace', () => {
    const source = [
      "import { defineScenario } from 'racebox';",
      'export default defineScenario({',
      "  id: 'mine/lines', title: 'lines', description: '', family: 'mine',",
      "  setup: (k) => ({ c: k.ExAllocatePool2(0, 4, 'C') }),",
      '  actors: {',
      '    t: { *run(k, s) {',
      '      const v = yield* k.ReadNoFence(s.c);',
      '      yield* k.WriteNoFence(s.c, v + 1);',
      '    } },',
      '  },',
      "  expect: 'pass',",
      '});',
    ].join('\n');
    const scenario = scenarioFromSource(source, '/scenarios/mine/lines.ts', 'racebox-scenario:/scenarios/mine/lines.ts');
    const run = new ControlledRun(presetRig('dual-opteron-240')!, scenario);
    const s = new RandomStrategy(1);
    s.newExecution(0);
    const x = run.execute(s, { trace: true });
    const lines = x.trace!.filter((t) => t.source).map((t) => `${t.op}@${formatSite(t.source!)}`);
    expect(lines).toEqual(['read@lines.ts:7', 'write@lines.ts:8']);
  });
});
