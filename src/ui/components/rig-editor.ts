import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { PRESET_RIGS } from '../../machine/presets.ts';
import { DEFAULT_WATCHDOG, DEFAULT_QUANTUM, validateRig, type FieldError, type Rig } from '../../machine/rig.ts';
import { withEditedIdentity } from '../lib/rig-identity.ts';
import { base } from '../styles.ts';
import './rig-topology.ts';

export type { RigDoc } from '../lib/rig-identity.ts';
import type { RigDoc } from '../lib/rig-identity.ts';

export interface RigChange {
  doc: RigDoc;
  rig?: Rig;
  errors: FieldError[];
}

export function rigToDoc(r: Rig): RigDoc {
  return JSON.parse(JSON.stringify(r)) as RigDoc;
}

export function checkRigDoc(doc: RigDoc): RigChange {
  const v = validateRig(doc);
  return v.ok ? { doc, rig: v.rig, errors: [] } : { doc, errors: v.errors };
}

/** What each architecture's memory model lets a CPU do, in one line (the rig editor's choice). */
export const ARCH_EXPLANATIONS: Record<'x64' | 'arm64', string> = {
  x64: 'x86-TSO: each CPU’s stores wait in order in a store buffer, so a later load may run before an earlier store is visible; interlocked operations and full fences drain it.',
  arm64: 'ARMv8: loads and stores to different addresses may become visible in any order unless acquire/release, a barrier or an address dependency orders them.',
};

/**
 * The box: pick a preset or a saved rig, then edit cores, Hyper-Threading,
 * architecture, HAL, build, quantum and watchdogs. Every field shows its own validation
 * message; the topology picture follows the edits.
 */
@customElement('rb-rig-editor')
export class RigEditor extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      .layout { display: grid; grid-template-columns: minmax(0, 1.1fr) minmax(0, 1fr); gap: 1rem; align-items: start; }
      @media (max-width: 860px) { .layout { grid-template-columns: minmax(0, 1fr); } }
      form { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.85rem 1rem; }
      @media (max-width: 520px) { form { grid-template-columns: minmax(0, 1fr); } }
      input, select { max-width: 100%; box-sizing: border-box; }
      .wide { grid-column: 1 / -1; }
      fieldset { border: 1px solid var(--rb-border); border-radius: var(--rb-radius-sm); padding: 0.5rem 0.75rem 0.65rem; margin: 0; }
      legend { font-size: 0.85rem; font-weight: 500; padding: 0 0.25rem; }
      .choice { display: inline-flex; align-items: center; gap: 0.35rem; margin-right: 1rem; font-weight: 400; }
      .summary { display: flex; gap: 0.5rem; flex-wrap: wrap; margin-top: 0.75rem; }
      .actions { display: flex; gap: 0.5rem; flex-wrap: wrap; margin-top: 1rem; }
      .status { margin-top: 0.75rem; }
      .desc { font-size: 0.85rem; color: var(--rb-muted); margin-top: 0.25rem; }
    `,
  ];

  @property({ attribute: false }) doc: RigDoc = rigToDoc(PRESET_RIGS[0]!);
  @property({ attribute: false }) userRigs: Rig[] = [];
  /** The rig the document started from ('preset:<id>' or 'user:<id>'). */
  @property() source = '';

  private get check(): RigChange {
    return checkRigDoc(this.doc);
  }

  private errorFor(field: string): string | undefined {
    const e = this.check.errors.filter((x) => x.field === field || x.field.startsWith(`${field}.`));
    return e.length ? e.map((x) => x.message).join('; ') : undefined;
  }

  private emit(doc: RigDoc, source = this.source): void {
    this.dispatchEvent(new CustomEvent<RigChange & { source: string }>('rig-change', { detail: { ...checkRigDoc(doc), source }, bubbles: true, composed: true }));
  }

  private set(field: string, value: unknown): void {
    const doc: RigDoc = { ...this.doc, watchdog: { ...(this.doc.watchdog ?? {}) } };
    if (field.startsWith('watchdog.')) doc.watchdog![field.slice(9)] = value;
    else doc[field] = value;
    if (field === 'hal' && value === 'mp') delete doc.upHalOnAllCpus;
    if (field === 'id') return this.emit(doc);
    const renamed = withEditedIdentity(doc, this.userRigs.map((r) => r.id));
    this.emit(renamed, renamed === doc ? this.source : '');
  }

  private num(e: Event): unknown {
    const v = (e.target as HTMLInputElement).value.trim();
    if (v === '') return v;
    const n = Number(v);
    return Number.isFinite(n) ? n : v;
  }

  private pick(e: Event): void {
    const v = (e.target as HTMLSelectElement).value;
    const [kind, id] = [v.slice(0, v.indexOf(':')), v.slice(v.indexOf(':') + 1)];
    const rig = kind === 'user' ? this.userRigs.find((r) => r.id === id) : PRESET_RIGS.find((r) => r.id === id);
    if (rig) this.emit(rigToDoc(rig), v);
  }

  private field(id: string, label: string, input: unknown, hint?: string) {
    const err = this.errorFor(id);
    const forId = id === 'id' || id === 'title' ? `rig-${id}` : id;
    return html`<div class="field">
      <label for=${forId}>${label}</label>
      ${input}
      ${err ? html`<span class="error" id=${`${id}-error`} role="alert">${err}</span>` : hint ? html`<span class="hint" id=${`${id}-hint`}>${hint}</span>` : nothing}
    </div>`;
  }

  private numberInput(id: string, value: unknown, min: number, max: number) {
    const err = this.errorFor(id);
    return html`<input id=${id} name=${id} type="number" inputmode="numeric" min=${min} max=${max} .value=${value === undefined ? '' : String(value)}
      aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? `${id}-error` : `${id}-hint`}
      @input=${(e: Event) => this.set(id, this.num(e))} />`;
  }

  override render() {
    const d = this.doc;
    const { rig, errors } = this.check;
    const wd = d.watchdog ?? {};
    const isPreset = this.source.startsWith('preset:');
    const ht = d.threadsPerCore === 2;
    // A rig file without the field is x64 (validateRig's default).
    const arch = d.arch === undefined ? 'x64' : d.arch;
    return html`<div class="layout">
      <section class="card" aria-labelledby="rig-heading">
        <h2 id="rig-heading">The box</h2>
        <div class="field wide" style="margin-bottom: 1rem">
          <label for="rig-select">Start from</label>
          <select id="rig-select" .value=${this.source} @change=${this.pick}>
            <optgroup label="Presets">
              ${PRESET_RIGS.map((r) => html`<option value=${`preset:${r.id}`} ?selected=${this.source === `preset:${r.id}`}>${r.id} — ${r.title}</option>`)}
            </optgroup>
            ${this.userRigs.length
              ? html`<optgroup label="Your rigs">
                  ${this.userRigs.map((r) => html`<option value=${`user:${r.id}`} ?selected=${this.source === `user:${r.id}`}>${r.id} — ${r.title}</option>`)}
                </optgroup>`
              : nothing}
            ${this.source === '' ? html`<option value="" selected>(edited)</option>` : nothing}
          </select>
          ${typeof d.description === 'string' ? html`<p class="desc">${d.description}</p>` : nothing}
        </div>
        <form @submit=${(e: Event) => e.preventDefault()} novalidate>
          ${this.field('id', 'Rig id', html`<input id="rig-id" .value=${String(d.id ?? '')} aria-invalid=${this.errorFor('id') ? 'true' : 'false'} aria-describedby="id-error id-hint" @input=${(e: Event) => this.set('id', (e.target as HTMLInputElement).value)} />`, 'Lower case, used in links and the CLI')}
          ${this.field('title', 'Title', html`<input id="rig-title" .value=${String(d.title ?? '')} aria-invalid=${this.errorFor('title') ? 'true' : 'false'} aria-describedby="title-error" @input=${(e: Event) => this.set('title', (e.target as HTMLInputElement).value)} />`)}
          ${this.field('cores', 'Cores', this.numberInput('cores', d.cores, 1, 64), 'Physical cores (1–64 logical CPUs in all)')}
          <div class="field">
            <span class="label" style="font-size:0.85rem;font-weight:500">Hyper-Threading</span>
            <label class="choice"><input id="threadsPerCore" type="checkbox" .checked=${ht} @change=${(e: Event) => this.set('threadsPerCore', (e.target as HTMLInputElement).checked ? 2 : 1)} /> Two logical CPUs per core</label>
            ${this.errorFor('threadsPerCore') ? html`<span class="error" role="alert">${this.errorFor('threadsPerCore')}</span>` : nothing}
          </div>
          <fieldset class="wide" aria-describedby="arch-explain">
            <legend>Architecture (memory model)</legend>
            <label class="choice"><input type="radio" name="arch" value="x64" .checked=${arch === 'x64'} @change=${() => this.set('arch', 'x64')} /> x64</label>
            <label class="choice"><input type="radio" name="arch" value="arm64" .checked=${arch === 'arm64'} @change=${() => this.set('arch', 'arm64')} /> ARM64</label>
            ${this.errorFor('arch')
              ? html`<span class="error" role="alert">${this.errorFor('arch')}</span>`
              : html`<p class="desc" id="arch-explain" data-testid="arch-explain">${ARCH_EXPLANATIONS[arch === 'arm64' ? 'arm64' : 'x64']}</p>`}
          </fieldset>
          ${this.field('hal', 'HAL', html`<select id="hal" .value=${String(d.hal ?? 'mp')} aria-invalid=${this.errorFor('hal') ? 'true' : 'false'} @change=${(e: Event) => this.set('hal', (e.target as HTMLSelectElement).value)}>
            <option value="mp" ?selected=${d.hal === 'mp'}>Multiprocessor (MP)</option>
            <option value="up" ?selected=${d.hal === 'up'}>Uniprocessor (UP)</option>
          </select>`, d.hal === 'up' ? 'KeAcquireSpinLock only raises IRQL' : 'Spin locks are interlocked test-and-set')}
          <fieldset>
            <legend>Build</legend>
            <label class="choice"><input type="radio" name="build" value="checked" .checked=${d.build === 'checked'} @change=${() => this.set('build', 'checked')} /> Checked (Verifier on)</label>
            <label class="choice"><input type="radio" name="build" value="free" .checked=${d.build === 'free'} @change=${() => this.set('build', 'free')} /> Free</label>
            ${this.errorFor('build') ? html`<span class="error" role="alert">${this.errorFor('build')}</span>` : nothing}
          </fieldset>
          ${d.hal === 'up' && (Number(d.cores) * (ht ? 2 : 1)) > 1
            ? html`<div class="field wide"><label class="choice"><input id="upHalOnAllCpus" type="checkbox" .checked=${d.upHalOnAllCpus === true} @change=${(e: Event) => this.set('upHalOnAllCpus', (e.target as HTMLInputElement).checked)} /> Run every CPU under the UP HAL (the unsafe mix that shows why a UP driver breaks on MP hardware)</label></div>`
            : nothing}
          ${this.field('quantum', 'Quantum (steps)', this.numberInput('quantum', d.quantum ?? DEFAULT_QUANTUM, 1, 1_000_000), 'Steps a thread runs below DISPATCH_LEVEL before its quantum ends')}
          ${this.field('watchdog.maxSteps', 'Watchdog: steps per run', this.numberInput('watchdog.maxSteps', wd.maxSteps ?? DEFAULT_WATCHDOG.maxSteps, 100, 100_000_000), 'A run longer than this is a hang')}
          ${this.field('watchdog.dpcTimeoutSteps', 'DPC watchdog (steps)', this.numberInput('watchdog.dpcTimeoutSteps', wd.dpcTimeoutSteps ?? DEFAULT_WATCHDOG.dpcTimeoutSteps, 10, 100_000_000), 'Free build: DPC_WATCHDOG_VIOLATION after this long at DISPATCH_LEVEL')}
        </form>
        <div class="status" role="status" aria-live="polite">
          ${rig
            ? html`<span class="pill pass">valid rig</span>`
            : html`<div class="banner error">This rig cannot be run: ${errors.length} field${errors.length > 1 ? 's need' : ' needs'} fixing (${errors.map((e) => e.field).join(', ')}).</div>`}
        </div>
        <div class="actions">
          <button type="button" ?disabled=${!rig} @click=${() => rig && this.dispatchEvent(new CustomEvent('save-rig', { detail: rig, bubbles: true, composed: true }))}>Save as my rig</button>
          ${this.source.startsWith('user:')
            ? html`<button type="button" class="danger" @click=${() => this.dispatchEvent(new CustomEvent('delete-rig', { detail: this.source.slice(5), bubbles: true, composed: true }))}>Delete my rig</button>`
            : nothing}
          ${isPreset ? html`<span class="muted" style="font-size:0.82rem;align-self:center">Presets are read-only: give it a new id and save it to keep your changes.</span>` : nothing}
        </div>
      </section>
      <section class="card" aria-label="Topology">
        <h2>Topology</h2>
        <rb-rig-topology .rig=${(rig ?? d) as Partial<Rig>} ?invalid=${!rig}></rb-rig-topology>
      </section>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-rig-editor': RigEditor;
  }
}
