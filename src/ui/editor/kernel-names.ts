/** NT API names for completion after `k.`, read from the kernel's own source (loaded with the editor, not before). */
const sources = import.meta.glob<string>('/src/kernel/*.ts', { query: '?raw', import: 'default' });

let names: Promise<{ label: string; detail: string }[]> | undefined;

export function kernelApiNames(): Promise<{ label: string; detail: string }[]> {
  names ??= (async () => {
    const out = new Map<string, string>();
    for (const [path, load] of Object.entries(sources)) {
      const text = await load();
      const family = path.split('/').pop()!.replace(/\.ts$/, '');
      for (const m of text.matchAll(/^\s*(\*?)\s*([A-Z][A-Za-z0-9]+)\(this: Kernel(?:,\s*([^)]*))?\)/gm)) {
        const params = (m[3] ?? '').split(',').map((p) => p.split(':')[0]!.trim()).filter(Boolean).join(', ');
        out.set(m[2]!, `${m[1] ? 'yield* ' : ''}(${params}) · ${family}`);
      }
    }
    return [...out.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, detail]) => ({ label, detail }));
  })();
  return names;
}
