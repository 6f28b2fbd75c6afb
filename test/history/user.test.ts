import './helpers.ts';
import { describe, expect, it } from 'vitest';
import {
  deleteUserRig,
  deleteUserScenario,
  getUserRig,
  getUserScenario,
  HistoryValidationError,
  listUserRigs,
  listUserScenarios,
  markImported,
  putUserRig,
  putUserScenario,
} from '../../src/history/index.ts';
import { RigError } from '../../src/machine/rig.ts';
import { fresh, rigA } from './helpers.ts';

describe('user rigs', () => {
  it('create, read, list, replace, delete', async () => {
    const h = await fresh();
    const stored = await putUserRig(h, { id: 'my-box', title: 'My box', cores: 4, hal: 'mp', build: 'checked' });
    expect(stored.quantum).toBe(30);
    expect(await getUserRig(h, 'my-box')).toEqual(stored);
    await putUserRig(h, { ...rigA, id: 'a-box' });
    await putUserRig(h, { ...stored, cores: 8 });
    expect((await listUserRigs(h)).map((r) => [r.id, r.cores])).toEqual([['a-box', 2], ['my-box', 8]]);
    expect(await deleteUserRig(h, 'my-box')).toBe(true);
    expect(await deleteUserRig(h, 'my-box')).toBe(false);
    expect(await getUserRig(h, 'my-box')).toBeUndefined();
  });

  it('refuses an invalid rig with every field error and stores nothing', async () => {
    const h = await fresh();
    const err = await putUserRig(h, { id: 'Bad Id', title: '', cores: 99, hal: 'smp', build: 'checked', turbo: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RigError);
    expect((err as RigError).errors.map((e) => e.field).sort()).toEqual(['cores', 'hal', 'id', 'title', 'turbo']);
    expect(await listUserRigs(h)).toEqual([]);
  });
});

describe('user scenarios', () => {
  it('create, read, list, replace, delete; updatedAt defaults to now', async () => {
    const h = await fresh();
    const before = Date.now();
    const s = await putUserScenario(h, { id: 'mine/race', title: 'My race', source: 'export default 1;' });
    expect(s.updatedAt).toBeGreaterThanOrEqual(before);
    expect(await getUserScenario(h, 'mine/race')).toEqual(s);
    await putUserScenario(h, { id: 'mine/race', title: 'My race', source: 'export default 2;', updatedAt: 5 });
    await putUserScenario(h, { id: 'a', title: 'A', source: '' });
    expect((await listUserScenarios(h)).map((x) => [x.id, x.source])).toEqual([['a', ''], ['mine/race', 'export default 2;']]);
    expect(await deleteUserScenario(h, 'a')).toBe(true);
    expect(await deleteUserScenario(h, 'a')).toBe(false);
    expect(await listUserScenarios(h)).toHaveLength(1);
  });

  it('refuses a malformed scenario, naming the field', async () => {
    const h = await fresh();
    for (const [bad, field] of [
      [{ id: '', title: 'x', source: '' }, 'id'],
      [{ id: 'a\u0000b', title: 'x', source: '' }, 'id'],
      [{ id: 'a', title: '', source: '' }, 'title'],
      [{ id: 'a', title: 'x', source: 42 }, 'source'],
      [{ id: 'a', title: 'x', source: '', run: 'eval' }, 'run'],
    ] as const) {
      const err = await putUserScenario(h, bad as never).catch((e: unknown) => e);
      expect(err, field).toBeInstanceOf(HistoryValidationError);
      expect((err as HistoryValidationError).errors[0]!.field).toBe(field);
    }
    expect(await listUserScenarios(h)).toEqual([]);
  });
});

describe('imported user scenarios', () => {
  it('markImported records where a scenario came from, skips unknown ids, and the origin is validated', async () => {
    const h = await fresh();
    await putUserScenario(h, { id: 'user/a', title: 'A', source: 'x', updatedAt: 1 });
    const origin = { kind: 'imported' as const, file: 'colleague.json', importedAt: 5 };
    expect(await markImported(h, ['user/a', 'user/missing'], origin)).toBe(1);
    expect(await getUserScenario(h, 'user/a')).toEqual({ id: 'user/a', title: 'A', source: 'x', updatedAt: 1, origin });
    const err = await putUserScenario(h, { id: 'user/b', title: 'B', source: 'x', origin: { kind: 'linked', file: 'f', importedAt: 1 } as unknown as typeof origin }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryValidationError);
    expect(await getUserScenario(h, 'user/b')).toBeUndefined();
  });
});
