/**
 * Echoing user text in a message: a 3 MB identifier in a rig file, a link or a
 * schedule must not become a 3 MB error line. Every layer that quotes what a
 * user wrote goes through these (the machine is the lowest layer, so all can).
 */

/** Characters of user text an error line quotes before it cuts with an ellipsis. */
export const QUOTE_CHARS = 80;

/** `text`, cut to `max` characters with an ellipsis. */
export function clip(text: string, max = QUOTE_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A value as JSON (a string in double quotes), cut to `max` characters with an ellipsis. */
export function quote(value: unknown, max = QUOTE_CHARS): string {
  if (typeof value === 'string') return JSON.stringify(clip(value, max));
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch {
    s = undefined;
  }
  return clip(s ?? String(value), max);
}

/** An object key a user wrote, as a field name in an error: cut short, and visible when empty. */
export function keyName(key: string): string {
  return key === '' ? '""' : clip(key);
}
