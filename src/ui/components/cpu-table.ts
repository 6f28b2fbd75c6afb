import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { CpuSnapshot } from '../../engine/outcome.ts';
import { base } from '../styles.ts';

/** Every CPU at the moment of a failure: IRQL, thread, what executes (bottom to top), routine stack and held locks. */
@customElement('rb-cpu-table')
export class CpuTable extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; overflow-x: auto; color: var(--rb-cpu-table-fg, var(--rb-fg)); }
      .muted { color: inherit; opacity: 0.92; }
      table { color: inherit; }
      th { color: inherit; opacity: 0.92; border-color: var(--rb-cpu-table-border, var(--rb-border)); }
      td { border-color: var(--rb-cpu-table-border, var(--rb-border)); }
      tr.fault td { background: var(--rb-cpu-table-fault, var(--rb-warn-bg)); }
      .ctx { display: block; }
      .ctx + .ctx { margin-top: 0.2rem; }
      .kind { font-size: 0.72rem; text-transform: uppercase; opacity: 0.92; margin-right: 0.25rem; }
      .stack { opacity: 1; }
    `,
  ];

  @property({ attribute: false }) cpus: CpuSnapshot[] = [];
  @property({ type: Number }) faulting = -1;

  override render() {
    return html`<table>
      <caption class="visually-hidden">State of each CPU</caption>
      <thead><tr><th scope="col">CPU</th><th scope="col">IRQL</th><th scope="col">Executing (bottom → top)</th><th scope="col">Routine stack</th><th scope="col">Held locks</th></tr></thead>
      <tbody>
        ${this.cpus.map(
          (c) => html`<tr class=${c.cpu === this.faulting ? 'fault' : ''}>
            <th scope="row">${c.cpu}${c.cpu === this.faulting ? ' ✱' : ''}<div style="font-weight:400;font-size:0.72rem;text-transform:none">core ${c.core}</div></th>
            <td class="mono">${c.irqlName} (${c.irql})</td>
            <td>${c.stack.length
              ? c.stack.map((x) => html`<span class="ctx"><span class="kind">${x.kind}</span><span class="mono">${x.name}</span>${x.spinningOn ? html` — spins on <span class="mono">${x.spinningOn}</span>` : nothing}</span>`)
              : html`<span class="muted">idle</span>`}
              ${c.queuedDpcs.length ? html`<span class="ctx">queued DPCs: ${c.queuedDpcs.join(', ')}</span>` : nothing}
              ${c.readyThreads.length ? html`<span class="ctx">ready: ${c.readyThreads.join(', ')}</span>` : nothing}
              ${c.waitingThreads?.length ? html`<span class="ctx">waiting: ${c.waitingThreads.join(', ')}</span>` : nothing}</td>
            <td class="mono stack">${c.stack.map((x) => html`<span class="ctx">${x.routineStack.length ? x.routineStack.join(' → ') : '—'}</span>`)}</td>
            <td class="mono">${c.stack.flatMap((x) => x.heldLocks).join(', ') || '—'}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-cpu-table': CpuTable;
  }
}
