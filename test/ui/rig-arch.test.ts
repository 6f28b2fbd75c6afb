import { describe, expect, it } from 'vitest';
import { presetRig } from '../../src/machine/presets.ts';
import { rigFingerprint, validateRig } from '../../src/machine/rig.ts';
import { rigToDoc } from '../../src/ui/components/rig-editor.ts';
import { withEditedIdentity } from '../../src/ui/lib/rig-identity.ts';
import { parseLink, replayLink } from '../../src/ui/lib/url.ts';

describe('the architecture in the rig editor and in links', () => {
  const arm = presetRig('arm64-quad')!;

  it('an x64 preset switched to ARM64 is a new rig with its own id, and a different machine', () => {
    const x64 = presetRig('dual-opteron-240')!;
    const doc = withEditedIdentity({ ...rigToDoc(x64), arch: 'arm64' }, []);
    expect(doc.id).toBe('dual-opteron-240-edited');
    const v = validateRig(doc);
    expect(v.ok && v.rig.arch).toBe('arm64');
    expect(v.ok && rigFingerprint(v.rig)).not.toBe(rigFingerprint(x64));
  });

  it('an ARM64 rig that is not a preset travels in a link with its architecture', () => {
    const v = validateRig({ ...rigToDoc(arm), id: 'my-arm', title: 'Mine', cores: 2 });
    if (!v.ok) throw new Error('test rig invalid');
    const link = replayLink('http://localhost/', v.rig, 'memory/publish-without-barrier', 'rb2.AA');
    const back = validateRig(parseLink(new URL(link).search).rigDoc);
    expect(back.ok && back.rig.arch).toBe('arm64');
    expect(back.ok && rigFingerprint(back.rig)).toBe(rigFingerprint(v.rig));
  });

  it('refuses an architecture it does not know, naming the field', () => {
    const v = validateRig({ ...rigToDoc(arm), arch: 'riscv' });
    expect(v.ok).toBe(false);
    expect(!v.ok && v.errors.map((e) => e.field)).toContain('arch');
  });
});
