import { describe, expect, it } from 'vitest';
import { explore } from '../src/engine/explore.ts';
import { presetRig } from '../src/machine/presets.ts';
import naive from '../scenarios/spinlock/naive-tas.ts';

describe('smoke', () => {
  it('finds the naive-tas deadlock', () => {
    const r = explore(presetRig('dual-opteron-240')!, naive, { schedules: 200 });
    console.log(JSON.stringify(r, null, 1).slice(0, 3000));
    expect(r.outcome).toBe('deadlock');
  });
});
