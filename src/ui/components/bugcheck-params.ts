import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { CauseLink } from '../../engine/cause.ts';
import { bugCheckArgLabels } from '../../machine/bugcheck-args.ts';
import { base } from '../styles.ts';

/**
 * A bug check's four parameters the way `!analyze -v` prints them — "Arg1:
 * 0000000000000080, Address of the IRP" — and, when the run shows what caused
 * it earlier (the first completion, the free), a link to that step.
 */
@customElement('rb-bugcheck-params')
export class BugcheckParams extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; color: inherit; }
      dl { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 0.2rem 0.75rem; margin: 0; font-size: 0.9rem; }
      dt { font-family: var(--rb-mono); white-space: nowrap; }
      dd { margin: 0; overflow-wrap: anywhere; }
      .v { font-family: var(--rb-mono); }
      .cause { margin: 0.6rem 0 0; }
      a { color: inherit; font-weight: 600; text-decoration: underline; text-underline-offset: 2px; }
      a:focus-visible { outline: 2px solid var(--rb-focus, currentColor); outline-offset: 2px; }
    `,
  ];

  @property({ type: Number }) code = 0;
  @property({ attribute: false }) params: readonly number[] = [];
  @property({ attribute: false }) cause?: CauseLink;

  private goTo(e: Event): void {
    e.preventDefault();
    if (this.cause) this.dispatchEvent(new CustomEvent('go-to-step', { detail: this.cause.index, bubbles: true, composed: true }));
  }

  override render() {
    const labels = bugCheckArgLabels(this.code, this.params);
    return html`<dl data-testid="bugcheck-args">
        ${labels.map((label, i) => html`<dt>Arg${i + 1}: <span class="v">${hex64(this.params[i] ?? 0)}</span></dt><dd>${label}</dd>`)}
      </dl>
      ${this.cause
        ? html`<p class="cause">Caused earlier: <a href=${`#step-${this.cause.step + 1}`} data-testid="cause-link" @click=${this.goTo}>go to step ${this.cause.step + 1}, ${this.cause.label}</a></p>`
        : nothing}`;
  }
}

/** A parameter as WinDbg prints it: 16 hex digits. */
function hex64(v: number): string {
  return (v >>> 0).toString(16).padStart(16, '0');
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-bugcheck-params': BugcheckParams;
  }
}
