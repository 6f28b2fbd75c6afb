/**
 * JUnit XML, the report format CI systems (GitHub Actions reporters, GitLab, Jenkins, Azure)
 * read: one <testcase> per regression row, a <failure> for a mismatch, an <error> for a row
 * that could not run as written (bad input, or a run that ended as outcome `error`).
 */

export interface JUnitCase {
  name: string;
  classname: string;
  timeMs: number;
  failure?: { message: string; type: string; text: string };
  error?: { message: string; type: string; text: string };
}

/** Escapes text for an XML attribute or element; drops the control characters XML 1.0 cannot hold at all. */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#13;')
    .replace(/\n/g, '&#10;')
    .replace(/\t/g, '&#9;');
}

/** Element text keeps its line breaks readable; only markup characters are escaped. */
function textEscape(s: string): string {
  return xmlEscape(s).replace(/&#10;/g, '\n').replace(/&#9;/g, '\t');
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

export function junitXml(suite: string, cases: JUnitCase[], timestamp = new Date()): string {
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const total = cases.reduce((a, c) => a + c.timeMs, 0);
  const head = `tests="${cases.length}" failures="${failures}" errors="${errors}" time="${seconds(total)}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(suite)}" ${head}>`,
    `  <testsuite name="${xmlEscape(suite)}" ${head} skipped="0" timestamp="${timestamp.toISOString().slice(0, 19)}">`,
  ];
  for (const c of cases) {
    const open = `    <testcase name="${xmlEscape(c.name)}" classname="${xmlEscape(c.classname)}" time="${seconds(c.timeMs)}"`;
    const problem = c.failure ? ['failure', c.failure] as const : c.error ? ['error', c.error] as const : undefined;
    if (!problem) {
      lines.push(`${open}/>`);
      continue;
    }
    const [tag, p] = problem;
    lines.push(`${open}>`, `      <${tag} message="${xmlEscape(p.message)}" type="${xmlEscape(p.type)}">${textEscape(p.text)}</${tag}>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
