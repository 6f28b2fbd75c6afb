/**
 * Completion after `k.`: every member of the kernel registry (src/kernel/registry.ts), marked
 * `yield*` when it is a routine. Parameter names come from the kernel's own source text (loaded
 * with the editor, not before), since a production build renames them in the code itself.
 */
const sources = import.meta.glob<string>('/src/kernel/*.ts', { query: '?raw', import: 'default' });

export interface KernelCompletion {
  label: string;
  detail: string;
}

let names: Promise<KernelCompletion[]> | undefined;

/** Parameter lists by routine name, as written in src/kernel/*.ts. */
async function sourceParams(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const load of Object.values(sources)) {
    const text = await load();
    for (const m of text.matchAll(/^\s*\*?\s*([A-Za-z][A-Za-z0-9_]*)\(this: Kernel(?:,\s*([^)]*))?\)/gm)) {
      out.set(m[1]!, (m[2] ?? '').split(',').map((p) => p.split(/[:=]/)[0]!.trim().replace(/\?$/, '')).filter(Boolean).join(', '));
    }
  }
  return out;
}

export function kernelApiNames(): Promise<KernelCompletion[]> {
  names ??= (async () => {
    const [{ KERNEL_API }, params] = await Promise.all([import('../../kernel/registry.ts'), sourceParams()]);
    return KERNEL_API.map((m) => ({
      label: m.name,
      detail: `${m.kind === 'routine' ? 'yield* ' : ''}(${params.get(m.name) ?? m.params}) · ${m.family}`,
    }));
  })();
  return names;
}
