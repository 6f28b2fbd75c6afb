import { PRESET_RIGS, presetRig } from '../../machine/presets.ts';
import { rigFingerprint, validateRig } from '../../machine/rig.ts';

/** A rig as the editor holds it: fields being typed, not yet a valid Rig. */
export type RigDoc = Record<string, unknown> & { watchdog?: Record<string, unknown> };

/**
 * A preset edited into another machine gets its own identity before it can run: under the preset's id its
 * runs and links would claim a machine they were not run on ("recorded on rig 'X', which differs from rig
 * 'X'"). Returns the document renamed to the first free `<id>-edited[-n]`, or as it was.
 */
export function withEditedIdentity(doc: RigDoc, taken: readonly string[]): RigDoc {
  const preset = presetRig(String(doc.id));
  const v = validateRig(doc);
  if (!preset || !v.ok || rigFingerprint(v.rig) === rigFingerprint(preset)) return doc;
  const ids = new Set([...PRESET_RIGS.map((r) => r.id), ...taken]);
  let id = `${preset.id}-edited`;
  for (let n = 2; ids.has(id); n++) id = `${preset.id}-edited-${n}`;
  return { ...doc, id, title: doc.title === preset.title ? `${preset.title} (edited)` : doc.title };
}

