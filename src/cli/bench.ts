/**
 * `racebox bench`: the suite lives in bench/, which the product does not import. It runs as
 * bin/bench.mjs in a child process; its output and exit code are this command's.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const BENCH_ENTRY = fileURLToPath(new URL('../../bin/bench.mjs', import.meta.url));

export function bench(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH_ENTRY, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdoutDone = forwardLines(child.stdout, out);
    const stderrDone = forwardLines(child.stderr, err);
    child.on('error', reject);
    child.on('close', (code) => {
      stdoutDone();
      stderrDone();
      resolve(code ?? 1);
    });
  });
}

/** Passes a stream on to `sink` line by line (sink adds the newline); the returned function flushes a last partial line. */
function forwardLines(stream: Readable, sink: (s: string) => void): () => void {
  let pending = '';
  stream.setEncoding('utf8').on('data', (d: string) => {
    const lines = (pending + d).split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) sink(l);
  });
  return () => {
    if (pending) sink(pending);
    pending = '';
  };
}
