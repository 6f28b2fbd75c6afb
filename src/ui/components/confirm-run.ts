import { LitElement, css, html } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { base } from '../styles.ts';

/** What the dialog names: the scenario, and where its code came from. */
export interface RunConfirmation {
  id: string;
  title: string;
  /** e.g. "imported from history.json on 06/12/2026, 16:50:38". */
  origin: string;
  /** How the run was asked for, e.g. "a link". */
  via: string;
}

/**
 * Asks before a user's scenario runs because of a link (or anything else the user did not click Run for):
 * user code may come from someone else. It runs in the scenario sandbox either way; this is the user's say.
 */
@customElement('rb-confirm-run')
export class ConfirmRun extends LitElement {
  static override styles = [
    base,
    css`
      dialog { max-width: 34rem; border: 1px solid var(--rb-border); border-radius: 8px; padding: 1.25rem; }
      dl { display: grid; grid-template-columns: auto 1fr; gap: 0.25rem 0.75rem; }
      dt { color: var(--rb-muted); }
      dd { margin: 0; font-family: var(--rb-mono); word-break: break-all; }
      .buttons { display: flex; gap: 0.5rem; justify-content: flex-end; }
    `,
  ];

  @state() private asking?: RunConfirmation;
  @query('dialog') private dialog!: HTMLDialogElement;
  private answer?: (ok: boolean) => void;

  /** Shows the dialog; resolves true when the user chose to run. */
  async ask(c: RunConfirmation): Promise<boolean> {
    this.answer?.(false);
    this.asking = c;
    await this.updateComplete;
    this.dialog.showModal();
    return new Promise<boolean>((resolve) => {
      this.answer = resolve;
    });
  }

  private close(ok: boolean): void {
    const a = this.answer;
    this.answer = undefined;
    if (this.dialog.open) this.dialog.close();
    a?.(ok);
  }

  override render() {
    const c = this.asking;
    return html`<dialog aria-labelledby="confirm-h" @cancel=${() => this.close(false)}>
      <h2 id="confirm-h">Run this scenario's code?</h2>
      ${c
        ? html`<p>${c.via} asks to run a scenario that is not part of the library. Its code runs in the scenario sandbox, cut off from your
              history and the network, but run it only if you trust where it came from.</p>
            <dl>
              <dt>Scenario</dt><dd class="id">${c.id}</dd>
              <dt>Title</dt><dd class="title">${c.title}</dd>
              <dt>From</dt><dd class="origin">${c.origin}</dd>
            </dl>`
        : ''}
      <div class="buttons">
        <button type="button" @click=${() => this.close(false)}>Don't run</button>
        <button type="button" class="primary" @click=${() => this.close(true)}>Run it</button>
      </div>
    </dialog>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-confirm-run': ConfirmRun;
  }
}
