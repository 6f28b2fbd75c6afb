import { LitElement, css, html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { base } from '../styles.ts';

/**
 * The first thing a newcomer reads: what Racebox does in one sentence, and one button to a first blue screen
 * (a race from the seed articles on a preselected two-CPU rig). The box, the scenarios and the history stay a
 * click away in the header.
 */
@customElement('rb-welcome-card')
export class WelcomeCard extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; margin-bottom: 1rem; }
      .card { display: flex; flex-wrap: wrap; gap: 0.75rem 1.5rem; align-items: center; justify-content: space-between; }
      p { margin: 0; max-width: 70ch; }
      .go { display: flex; gap: 0.5rem; flex-wrap: wrap; align-items: center; }
      .small { font-size: 0.85rem; color: var(--rb-muted); }
    `,
  ];

  private fire(name: string): void {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true }));
  }

  override render() {
    return html`<section class="card" aria-labelledby="welcome-h">
      <div>
        <h2 id="welcome-h">Find the interleaving that blue-screens your driver</h2>
        <p>Racebox runs driver synchronization code on a virtual multi-processor Windows machine, searches the thread
          interleavings for one that fails, and replays the failing one step by step.</p>
        <p class="small">First time? One click runs a classic race (an IRP completed twice when cancel and completion meet) on a two-CPU checked build.</p>
      </div>
      <div class="go">
        <button type="button" class="primary" @click=${() => this.fire('first-blue-screen')}>Show me a blue screen</button>
        <button type="button" @click=${() => this.fire('browse-scenarios')}>Browse the scenarios</button>
      </div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-welcome-card': WelcomeCard;
  }
}
