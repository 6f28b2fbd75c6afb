/** The rig presets shipped in rigs/, bundled so the browser and the CLI see the same machines. */
import arm64Quad from '../../rigs/arm64-quad.json' with { type: 'json' };
import dualOpteron from '../../rigs/dual-opteron-240.json' with { type: 'json' };
import p4ht from '../../rigs/p4-ht.json' with { type: 'json' };
import quadFree from '../../rigs/quad-free.json' with { type: 'json' };
import uniprocessor from '../../rigs/uniprocessor.json' with { type: 'json' };
import workstation from '../../rigs/workstation-16.json' with { type: 'json' };
import { RigError, validateRig, type Rig } from './rig.ts';

function preset(doc: unknown, file: string): Rig {
  const r = validateRig(doc);
  if (!r.ok) throw new RigError(file, r.errors);
  return r.rig;
}

export const PRESET_RIGS: readonly Rig[] = [
  preset(uniprocessor, 'rigs/uniprocessor.json'),
  preset(p4ht, 'rigs/p4-ht.json'),
  preset(dualOpteron, 'rigs/dual-opteron-240.json'),
  preset(quadFree, 'rigs/quad-free.json'),
  preset(workstation, 'rigs/workstation-16.json'),
  preset(arm64Quad, 'rigs/arm64-quad.json'),
];

export function presetRig(id: string): Rig | undefined {
  return PRESET_RIGS.find((r) => r.id === id);
}
