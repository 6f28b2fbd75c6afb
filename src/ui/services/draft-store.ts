/**
 * The editor's unsaved text, kept across reloads in the app's own localStorage (the page's origin: user code
 * never runs there, it runs in the scenario sandbox). One draft; cleared when it equals what was saved.
 */
const KEY = 'racebox.editor.draft';
/** localStorage holds a few MB per origin; a draft above this is not kept (the source limit is lower still). */
const MAX_CHARS = 1_000_000;

export interface Draft {
  source: string;
  savedAt: number;
}

type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function storage(): Store | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function loadDraft(store: Store | undefined = storage()): Draft | undefined {
  try {
    const raw = store?.getItem(KEY);
    if (!raw) return undefined;
    const d = JSON.parse(raw) as Partial<Draft>;
    return typeof d.source === 'string' && typeof d.savedAt === 'number' ? { source: d.source, savedAt: d.savedAt } : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps `source` as the draft; returns false when it could not (storage full or unavailable, or too long). */
export function saveDraft(source: string, store: Store | undefined = storage(), now = Date.now()): boolean {
  if (!store || source.length > MAX_CHARS) return false;
  try {
    store.setItem(KEY, JSON.stringify({ source, savedAt: now } satisfies Draft));
    return true;
  } catch {
    return false;
  }
}

export function clearDraft(store: Store | undefined = storage()): void {
  try {
    store?.removeItem(KEY);
  } catch {
    // Nothing kept, nothing to clear.
  }
}
