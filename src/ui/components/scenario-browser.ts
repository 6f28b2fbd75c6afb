import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { PRESET_RIGS } from '../../machine/presets.ts';
import { activeCpuCount } from '../../machine/rig.ts';
import { describeExpected, expectedOutcome } from '../../scenario/expect.ts';
import type { UserScenario } from '../../history/types.ts';
import { loadScenarioSource, matchesSearch, seedTitle, type Catalog, type CatalogEntry } from '../lib/catalog.ts';
import { base } from '../styles.ts';
import './code-view.ts';

/**
 * The scenario library grouped by primitive family: description, seed
 * article, buggy/correct pairing, the expected outcome on every preset rig and
 * the read-only source. Plus the user's own scenarios from the history.
 */
@customElement('rb-scenario-browser')
export class ScenarioBrowser extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      .imported { font-size: 0.7rem; padding: 0 0.35rem; border-radius: 999px; border: 1px solid var(--rb-warn); color: var(--rb-warn); }
      .layout { display: grid; grid-template-columns: 17rem minmax(0, 1fr); gap: 1rem; align-items: start; }
      @media (max-width: 860px) { .layout { grid-template-columns: minmax(0, 1fr); } }
      nav { position: sticky; top: 4.5rem; max-height: calc(100vh - 6rem); overflow: auto; padding: 0.5rem; }
      nav h3 { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--rb-muted); margin: 0.75rem 0.5rem 0.25rem; }
      nav h3:first-child { margin-top: 0.25rem; }
      nav ul { list-style: none; margin: 0; padding: 0; }
      nav button {
        width: 100%; justify-content: space-between; border: 0; background: transparent; padding: 0.35rem 0.5rem;
        text-align: left; white-space: normal; font-size: 0.85rem;
      }
      nav button[aria-current='true'] { background: var(--rb-accent-soft); color: var(--rb-accent-text); font-weight: 600; }
      nav .dot { width: 0.5rem; height: 0.5rem; border-radius: 50%; flex: none; }
      nav .name { display: flex; flex-direction: column; gap: 0.1rem; min-width: 0; }
      nav .name .id { font-size: 0.72rem; overflow-wrap: anywhere; }
      nav .variant { display: inline-flex; align-items: center; gap: 0.3rem; font-size: 0.72rem; color: var(--rb-muted); flex: none; }
      nav input[type='search'] { width: 100%; box-sizing: border-box; margin: 0.25rem 0 0.5rem; }
      nav .none-found { font-size: 0.85rem; color: var(--rb-muted); margin: 0.5rem; }
      .dot.buggy { background: var(--rb-warn); }
      .dot.correct { background: var(--rb-ok); }
      .dot.none { background: var(--rb-border-strong); }
      .detail header { display: flex; gap: 1rem; justify-content: space-between; align-items: start; flex-wrap: wrap; margin-bottom: 0.5rem; }
      .detail h2 { margin: 0; }
      .id { font-family: var(--rb-mono); font-size: 0.8rem; color: var(--rb-muted); }
      .meta { display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
      .desc { max-width: 75ch; }
      section + section { margin-top: 1rem; }
      .broken { margin-top: 1rem; }
      .expect .pill { white-space: normal; }
      button.link { color: var(--rb-accent-text); cursor: pointer; text-decoration: underline; background: none; border: 0; padding: 0; font: inherit; display: inline; white-space: normal; text-align: left; }
    `,
  ];

  @property({ attribute: false }) catalog?: Catalog;
  @property({ attribute: false }) userScenarios: UserScenario[] = [];
  @property() selected = '';
  @state() private source = '';
  @state() private sourceFor = '';
  @state() private query = '';

  private get entry(): CatalogEntry | undefined {
    return this.catalog?.byId.get(this.selected) ?? this.catalog?.entries[0];
  }

  override updated(): void {
    const e = this.entry;
    if (e && this.sourceFor !== e.path) {
      this.sourceFor = e.path;
      this.source = '';
      void loadScenarioSource(e.path).then((s) => {
        if (this.sourceFor === e.path) this.source = s;
      });
    }
  }

  private fire(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  override render() {
    const c = this.catalog;
    if (!c) return html`<p class="muted" role="status">Loading the scenario library…</p>`;
    const e = this.entry;
    const families = [...c.families.entries()]
      .map(([family, list]) => [family, list.filter((x) => matchesSearch(x, this.query))] as const)
      .filter(([, list]) => list.length > 0);
    return html`<div class="layout">
      <nav class="card" aria-label="Scenario library">
        <input type="search" aria-label="Search scenarios" placeholder="Search: id, title, primitive, seed" .value=${this.query}
          @input=${(ev: Event) => { this.query = (ev.target as HTMLInputElement).value; }} />
        ${families.length === 0 ? html`<p class="none-found" role="status">No scenario matches “${this.query}”.</p>` : nothing}
        ${families.map(
          ([family, list]) => html`<h3 id=${`fam-${family}`}>${family}</h3>
            <ul aria-labelledby=${`fam-${family}`}>
              ${list.map(
                (s) => html`<li><button type="button" aria-current=${s.id === e?.id ? 'true' : 'false'} @click=${() => this.fire('select-scenario', s.id)}>
                  <span class="name"><span>${s.title}</span><span class="id">${s.id}</span></span>
                  ${s.variant ? html`<span class="variant"><span class=${`dot ${s.variant}`} aria-hidden="true"></span>${s.variant}</span>` : nothing}
                </button></li>`,
              )}
            </ul>`,
        )}
        ${this.userScenarios.length
          ? html`<h3 id="fam-user">Your scenarios</h3>
              <ul aria-labelledby="fam-user">
                ${this.userScenarios.map(
                  (u) => html`<li><button type="button" @click=${() => this.fire('open-user-scenario', u.id)}><span>${u.title || u.id}</span>${u.origin?.kind === 'imported'
                    ? html` <span class="imported" title=${`Imported from ${u.origin.file} on ${new Date(u.origin.importedAt).toLocaleString()}`}>imported</span>`
                    : nothing}</button></li>`,
                )}
              </ul>`
          : nothing}
      </nav>
      ${e ? this.renderDetail(e) : html`<p>No scenarios found under scenarios/.</p>`}
    </div>
    ${c.broken.length
      ? html`<div class="banner error broken" role="alert">Some scenario files could not be loaded: ${c.broken.map((b) => html`<div><code>${b.path}</code>: ${b.message}</div>`)}</div>`
      : nothing}`;
  }

  private renderDetail(e: CatalogEntry) {
    const twin = e.pairedWith ? this.catalog?.byId.get(e.pairedWith) : undefined;
    return html`<article class="card detail" aria-labelledby="scenario-title">
      <header>
        <div>
          <h2 id="scenario-title">${e.title}</h2>
          <span class="id">${e.id} · version ${e.version}</span>
        </div>
        <div class="row">
          <button type="button" class="primary" @click=${() => this.fire('use-scenario', e.id)}>Run this scenario</button>
          <button type="button" @click=${() => this.fire('fork-scenario', { id: e.id, source: this.source })} ?disabled=${!this.source}>Fork in editor</button>
        </div>
      </header>
      <div class="meta">
        <span>Family <strong>${e.family}</strong></span>
        ${e.variant ? html`<span><span class=${`pill ${e.variant}`}>${e.variant}</span></span>` : nothing}
        ${e.pairedWith
          ? html`<span>${e.variant === 'buggy' ? 'Correct twin' : 'Buggy twin'}:
              <button type="button" class="link" @click=${() => this.fire('select-scenario', e.pairedWith)}>${twin?.title ?? e.pairedWith}</button></span>`
          : nothing}
        <span>${e.actors} actor${e.actors === 1 ? '' : 's'}</span>
        ${e.seeds.length ? html`<span>Seed article: ${e.seeds.map((s) => html`<cite title=${s}>${seedTitle(s)}</cite>`)}</span>` : nothing}
      </div>
      <p class="desc">${e.description}</p>
      <section aria-labelledby="expect-h">
        <h4 id="expect-h">Expected outcome per preset rig</h4>
        <div class="table-scroll" tabindex="0" role="region" aria-labelledby="expect-h"><table class="expect">
          <thead><tr><th scope="col">Rig</th><th scope="col">CPUs that run</th><th scope="col">Build</th><th scope="col">Expected</th></tr></thead>
          <tbody>
            ${PRESET_RIGS.map((r) => {
              const o = expectedOutcome(e.scenario, r);
              const text = o === undefined ? 'no expectation' : describeExpected(o);
              const cls = o === undefined ? '' : o === 'pass' ? 'pass' : typeof o === 'string' ? o : 'bugcheck';
              return html`<tr><td><code>${r.id}</code></td><td>${activeCpuCount(r)}${r.hal === 'up' ? ' (UP HAL)' : ''}</td><td>${r.build}</td><td><span class=${`pill ${cls}`}>${text}</span></td></tr>`;
            })}
          </tbody>
        </table></div>
      </section>
      <section aria-labelledby="src-h">
        <h4 id="src-h">Source <span class="muted" style="text-transform:none;letter-spacing:0;font-weight:400">${e.path.slice(1)}</span></h4>
        ${this.source ? html`<rb-code-view .code=${this.source} label=${`Source of ${e.id}`}></rb-code-view>` : html`<p class="muted">Loading…</p>`}
      </section>
    </article>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-scenario-browser': ScenarioBrowser;
  }
}
