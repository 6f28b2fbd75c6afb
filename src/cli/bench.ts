export async function bench(_argv: string[], out: (s: string) => void): Promise<number> {
  out('bench: see bench/');
  return 0;
}
