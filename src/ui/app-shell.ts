import { LitElement, css, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';

/** Root of the Racebox UI. A placeholder shell until the real panels land. */
@customElement('racebox-app')
export class RaceboxApp extends LitElement {
  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 100vh;
      font-family: var(--rb-font, system-ui, sans-serif);
      color: var(--rb-fg, #1b1f24);
      background: var(--rb-bg, #f6f7f9);
    }
    header {
      display: flex;
      align-items: baseline;
      gap: 1rem;
      padding: 0.75rem 1.25rem;
      background: var(--rb-surface, #fff);
      border-bottom: 1px solid var(--rb-border, #d7dbe0);
    }
    h1 {
      margin: 0;
      font-size: 1.4rem;
      color: var(--rb-accent, #0b5fff);
    }
    .isolation {
      font-size: 0.9rem;
      color: var(--rb-muted, #5b6470);
    }
    .isolation .yes { color: var(--rb-ok, #137333); }
    .isolation .no { color: var(--rb-warn, #b3261e); }
    main {
      flex: 1;
      padding: 1.25rem;
    }
  `;

  @state() private isolated = globalThis.crossOriginIsolated === true;

  override render() {
    return html`
      <header>
        <h1>Racebox</h1>
        <p class="isolation" data-testid="isolation">
          Cross-origin isolated:
          ${this.isolated
            ? html`<span class="yes">yes</span>`
            : html`<span class="no">no (SharedArrayBuffer unavailable)</span>`}
        </p>
      </header>
      <main>
        <p>Pick a rig and a scenario to start exploring interleavings. (Coming soon.)</p>
      </main>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'racebox-app': RaceboxApp;
  }
}
