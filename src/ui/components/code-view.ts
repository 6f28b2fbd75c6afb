import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { base } from '../styles.ts';

const KEYWORDS = new Set([
  'import', 'from', 'export', 'default', 'const', 'let', 'var', 'function', 'return', 'if', 'else', 'while', 'for', 'do',
  'yield', 'new', 'type', 'interface', 'as', 'of', 'in', 'true', 'false', 'null', 'undefined', 'break', 'continue',
  'throw', 'try', 'catch', 'finally', 'switch', 'case', 'typeof', 'void', 'this', 'class', 'extends',
]);
const TOKEN = /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|('(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`)|(\b\d[\d_]*(?:\.\d+)?\b|\b0x[0-9a-fA-F]+\b)|([A-Za-z_$][\w$]*)|([\s\S])/g;

/** A marked line: the line a CPU executes ('current'), a call on its stack ('caller'), a line that may be it ('maybe'). */
export interface LineMark {
  kind: 'current' | 'caller' | 'maybe';
  /** Shown in the gutter, e.g. "CPU 0". */
  label?: string;
}

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
        position: relative; margin: 0; padding: 0.75rem 0; overflow: auto; max-height: var(--rb-code-max-height, 32rem);
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
      .line.current { background: var(--rb-code-current-bg, var(--rb-accent-soft)); box-shadow: inset 3px 0 0 var(--rb-accent); }
      .line.caller { box-shadow: inset 3px 0 0 var(--rb-code-ln); }
      .line.maybe { box-shadow: inset 3px 0 0 var(--rb-caution, #b45309); }
      .mark { display: inline-block; min-width: 3.2em; margin-left: 0.5em; font-size: 0.72rem; font-weight: 600; color: var(--rb-fg); }
    `,
  ];

  @property() code = '';
  @property() label = 'Source';
  /** Marked lines (1-based) and the first line number shown (a routine cut out of its file). */
  @property({ attribute: false }) marks: ReadonlyMap<number, LineMark> = new Map();
  @property({ type: Number }) firstLine = 1;
  /** A line (1-based, of `code`) to scroll into view inside the box. */
  @property({ type: Number }) focusLine = 0;

  override render() {
    const lines = highlightLines(this.code);
    const marked = this.marks.size > 0;
    return html`<pre tabindex="0" role="region" aria-label=${this.label}><code>${lines.map((l, i) => {
      const mark = this.marks.get(i + 1);
      return html`<span class=${mark ? `line ${mark.kind}` : 'line'} data-line=${i + 1}><span class="ln">${i + this.firstLine}</span>${marked ? html`<span class="mark">${mark?.label ?? ''}</span>` : nothing}${l.map((t) => (t.cls ? html`<span class=${t.cls}>${t.text}</span>` : t.text))}</span>`;
    })}</code></pre>`;
  }

  override updated(): void {
    if (this.focusLine <= 0) return;
    const pre = this.renderRoot.querySelector('pre');
    const line = this.renderRoot.querySelector<HTMLElement>(`[data-line="${this.focusLine}"]`);
    if (!pre || !line) return;
    // Scroll the box only, never the page.
    const top = line.offsetTop;
    if (top < pre.scrollTop || top > pre.scrollTop + pre.clientHeight - line.offsetHeight) pre.scrollTop = Math.max(0, top - pre.clientHeight / 3);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-code-view': CodeView;
  }
}
