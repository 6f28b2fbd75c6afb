import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { base } from '../styles.ts';

const KEYWORDS = new Set([
  'import', 'from', 'export', 'default', 'const', 'let', 'var', 'function', 'return', 'if', 'else', 'while', 'for', 'do',
  'yield', 'new', 'type', 'interface', 'as', 'of', 'in', 'true', 'false', 'null', 'undefined', 'break', 'continue',
  'throw', 'try', 'catch', 'finally', 'switch', 'case', 'typeof', 'void', 'this', 'class', 'extends',
]);
const TOKEN = /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|('(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`)|(\b\d[\d_]*(?:\.\d+)?\b|\b0x[0-9a-fA-F]+\b)|([A-Za-z_$][\w$]*)|([\s\S])/g;

interface Tok {
  cls: string;
  text: string;
}

/** Splits TypeScript into classed tokens, line by line (comments and template strings may span lines). */
export function highlightLines(src: string): Tok[][] {
  const lines: Tok[][] = [[]];
  const push = (cls: string, text: string): void => {
    const parts = text.split('\n');
    parts.forEach((p, i) => {
      if (i > 0) lines.push([]);
      if (p) lines[lines.length - 1]!.push({ cls, text: p });
    });
  };
  for (const m of src.matchAll(TOKEN)) {
    if (m[1]) push('c', m[1]);
    else if (m[2]) push('s', m[2]);
    else if (m[3]) push('n', m[3]);
    else if (m[4]) push(KEYWORDS.has(m[4]) ? 'k' : /^(Ke|Ex|Io|Ob|Interlocked|Read|Write|Initialize|Insert|Remove)[A-Z]/.test(m[4]) ? 'a' : /^[A-Z][A-Z0-9_]+$/.test(m[4]) ? 'm' : '', m[4]);
    else push('', m[5]!);
  }
  return lines;
}

/** Read-only source with line numbers and syntax colours (no editor loaded). */
@customElement('rb-code-view')
export class CodeView extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      pre {
        margin: 0; padding: 0.75rem 0; overflow: auto; max-height: var(--rb-code-max-height, 32rem);
        background: var(--rb-code-bg); color: var(--rb-code-fg); border-radius: var(--rb-radius-sm);
        font-size: 0.8rem; line-height: 1.5; tab-size: 2;
      }
      .line { display: block; padding: 0 1rem 0 0; white-space: pre; }
      .ln { display: inline-block; width: 3.2em; padding-right: 1em; text-align: right; color: var(--rb-code-ln); user-select: none; }
      .c { color: var(--rb-code-comment); font-style: italic; }
      .s { color: var(--rb-code-string); }
      .n { color: var(--rb-code-number); }
      .k { color: var(--rb-code-keyword); font-weight: 600; }
      .a { color: var(--rb-code-api); }
      .m { color: var(--rb-code-const); }
    `,
  ];

  @property() code = '';
  @property() label = 'Source';

  override render() {
    const lines = highlightLines(this.code);
    return html`<pre tabindex="0" role="region" aria-label=${this.label}><code>${lines.map(
      (l, i) => html`<span class="line"><span class="ln">${i + 1}</span>${l.map((t) => (t.cls ? html`<span class=${t.cls}>${t.text}</span>` : t.text))}</span>`,
    )}</code></pre>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-code-view': CodeView;
  }
}
