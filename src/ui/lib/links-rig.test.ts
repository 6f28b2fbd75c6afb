import { describe, expect, it } from 'vitest';
import { presetRig } from '../../machine/presets.ts';
import { rigFingerprint, validateRig } from '../../machine/rig.ts';
import { withEditedIdentity } from './rig-identity.ts';
import { parseLink, replayLink } from './url.ts';

const preset = presetRig('dual-opteron-240')!;
const asDoc = (r: object): Record<string, unknown> => JSON.parse(JSON.stringify(r)) as Record<string, unknown>;

describe('an edited preset', () => {
  it('gets its own id and title before it can run, the first free one', () => {
    const edited = withEditedIdentity({ ...asDoc(preset), cores: 4 }, []);
    expect(edited.id).toBe('dual-opteron-240-edited');
    expect(edited.title).toBe(`${preset.title} (edited)`);
    expect(withEditedIdentity({ ...asDoc(preset), cores: 4 }, ['dual-opteron-240-edited']).id).toBe('dual-opteron-240-edited-2');
  });

  it('keeps the preset id while it is still the preset, or while the fields are invalid', () => {
    const same = asDoc(preset);
    expect(withEditedIdentity(same, [])).toBe(same);
    const invalid = { ...asDoc(preset), cores: -2 };
    expect(withEditedIdentity(invalid, [])).toBe(invalid);
  });
});

describe('a link to a failure on a rig that is not a preset', () => {
  const mine = validateRig({ ...asDoc(preset), id: 'my-quad', title: 'Mine', cores: 4 });
  if (!mine.ok) throw new Error('test rig invalid');

  it('carries the rig fields, which parse back to the same machine', () => {
    const link = replayLink('http://localhost/', mine.rig, 'spinlock/abba', 'rb2.x');
    const u = new URL(link);
    expect(u.searchParams.get('rig')).toBe('my-quad');
    const p = parseLink(u.search);
    expect(p.problems).toEqual([]);
    const back = validateRig(p.rigDoc);
    expect(back.ok && rigFingerprint(back.rig)).toBe(rigFingerprint(mine.rig));
  });

  it('a preset travels by id only', () => {
    expect(new URL(replayLink('http://localhost/', preset.id, 'spinlock/abba', 'rb2.x')).searchParams.has('rigdoc')).toBe(false);
  });

  it('a cut or oversized rigdoc is refused, naming the parameter', () => {
    const link = replayLink('http://localhost/', mine.rig, 'spinlock/abba', 'rb2.x');
    const cut = new URL(link);
    cut.searchParams.set('rigdoc', cut.searchParams.get('rigdoc')!.slice(0, 17));
    expect(parseLink(cut.search).problems.join(' ')).toMatch(/rigdoc is not a rig/);
    expect(parseLink(`?rigdoc=${'A'.repeat(9000)}`).problems.join(' ')).toMatch(/rigdoc is 9000 characters/);
  });
});
