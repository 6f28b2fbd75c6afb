import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { base } from '../styles.ts';

/**
 * The memory reorderings a failure needed (Failure.reorderings), one sentence each, under the
 * failure's message: a failure on a weak-memory rig is not explained by the interleaving alone.
 * Inside the blue screen it takes the screen's colours (`on-bsod`).
 */
@customElement('rb-reorderings-list')
export class ReorderingsList extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; margin: 0.5rem 0 1rem; }
      h4 { margin: 0 0 0.35rem; font-size: 0.9rem; }
      ul { margin: 0; padding-left: 1.2rem; display: grid; gap: 0.3rem; }
      li { font-size: 0.9rem; }
      p { font-size: 0.82rem; margin: 0.4rem 0 0; color: var(--rb-muted); }
      :host([on-bsod]) h4, :host([on-bsod]) li, :host([on-bsod]) p { color: inherit; }
    `,
  ];

  @property({ attribute: false }) reorderings?: readonly string[];
  /** Drawn on the blue screen: inherit its colours. */
  @property({ type: Boolean, attribute: 'on-bsod', reflect: true }) onBsod = false;

  override render() {
    const list = this.reorderings ?? [];
    if (list.length === 0) return nothing;
    return html`<section aria-labelledby="reorder-h" data-testid="reorderings">
      <h4 id="reorder-h">${list.length === 1 ? 'The memory reordering this failure needed' : `The ${list.length} memory reorderings this failure needed`}</h4>
      <ul>${list.map((r) => html`<li>${r}</li>`)}</ul>
      <p>The rig's memory model let these stores and loads take effect out of program order; the timeline draws each buffered store and marks each read of an older value.</p>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-reorderings-list': ReorderingsList;
  }
}
