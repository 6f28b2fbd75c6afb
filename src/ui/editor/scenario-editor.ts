/**
 * The scenario editor (loaded only when opened: this module and CodeMirror
 * are a separate chunk). TypeScript with completion of the NT API after `k.`;
 * every edit is checked in a worker, and errors point at their line. Saved
 * scenarios live in the history; running one sends its source to the
 * exploration workers, never evaluating it on the page.
 */
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap, history as cmHistory, historyKeymap, indentWithTab } from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { bracketMatching, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { EditorState, type Extension } from '@codemirror/state';
import { EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers, drawSelection } from '@codemirror/view';
import { consume } from '@lit/context';
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { UserScenario } from '../../history/types.ts';
import type { Diagnostic } from '../../scenario/load-source.ts';
import type { EditorRunRequest } from '../app-shell.ts';
import { historyContext } from '../context.ts';
import { createCheckRunner, type CheckRunner } from '../services/check-runner.ts';
import { loadDraft, saveDraft } from '../services/draft-store.ts';
import type { HistoryService } from '../services/history-service.ts';
import { base } from '../styles.ts';
import type { CheckResult, ScenarioMeta } from './check-scenario.ts';
import { diagnosticField, setDiagnostics } from './diagnostic-lines.ts';
import { racebox } from './highlight.ts';
import { kernelApiNames } from './kernel-names.ts';

export const NEW_SCENARIO = `import { defineScenario, POOL_FLAG_NON_PAGED } from 'racebox';

// Two threads on two processors bump a shared counter with a plain read and
// write instead of InterlockedIncrement: the classic lost update.
export default defineScenario({
  id: 'user/lost-update',
  title: 'Counter bumped without an interlocked operation',
  family: 'user',
  description: 'Each thread reads the counter, adds one and writes it back. When both read before either writes, one increment is lost.',
  variant: 'buggy',
  setup: (k) => ({
    counter: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Cntr'),
  }),
  actors: {
    first: {
      cpu: 0,
      *run(k, s) {
        const v = yield* k.ReadNoFence(s.counter);
        yield* k.WriteNoFence(s.counter, v + 1);
      },
    },
    second: {
      cpu: 1,
      *run(k, s) {
        const v = yield* k.ReadNoFence(s.counter);
        yield* k.WriteNoFence(s.counter, v + 1);
      },
    },
  },
  invariants: {
    'no lost update': (s, k) => k.peek(s.counter) === 2 || \`counter is \${k.peek(s.counter)}, expected 2\`,
  },
  expect: [
    { when: { minCpus: 2 }, outcome: { invariant: 'no lost update' } },
    { outcome: 'pass' },
  ],
});
`;

async function completeKernel(ctx: CompletionContext): Promise<CompletionResult | null> {
  const m = ctx.matchBefore(/\bk\.[A-Za-z0-9]*/);
  if (!m) return null;
  const names = await kernelApiNames();
  return { from: m.from + 2, options: names.map((n) => ({ label: n.label, detail: n.detail, type: 'function' })), validFor: /^[A-Za-z0-9]*$/ };
}

function forkSource(id: string, source: string): string {
  const name = id.split('/').pop() ?? 'scenario';
  return source
    .replace(/(\bid:\s*)(['"])[^'"]*\2/, `$1'user/${name}-fork'`)
    .replace(/(\btitle:\s*)(['"])([^'"]*)\2/, (_all, pre: string, q: string, t: string) => `${pre}${q}${t} (fork)${q}`)
    .replace(/(\bfamily:\s*)(['"])[^'"]*\2/, `$1'user'`)
    .replace(/^\s*pairedWith:.*\n/m, '');
}

@customElement('rb-scenario-editor')
export class ScenarioEditor extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      .layout { display: grid; grid-template-columns: minmax(0, 1fr) 20rem; gap: 1rem; align-items: start; }
      @media (max-width: 960px) { .layout { grid-template-columns: 1fr; } }
      .toolbar { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin-bottom: 0.75rem; }
      .toolbar .open { display: flex; align-items: center; gap: 0.4rem; }
      .toolbar .grow { flex: 1; }
      .cm-host { border: 1px solid var(--rb-border-strong); border-radius: var(--rb-radius-sm); overflow: hidden; background: var(--rb-code-bg); }
      .cm-host .cm-editor { height: min(62vh, 40rem); font-size: 0.82rem; }
      .cm-host .cm-editor.cm-focused { outline: 2px solid var(--rb-focus, var(--rb-accent)); }
      .cm-host .cm-scroller { font-family: var(--rb-mono); }
      .cm-host .cm-gutters { background: var(--rb-surface-2); color: var(--rb-muted); border-right: 1px solid var(--rb-border); }
      .cm-host .cm-content { caret-color: var(--rb-fg); color: var(--rb-code-fg); }
      .cm-host .cm-activeLine { background: rgb(127 127 127 / 0.08); }
      .cm-host .cm-rb-error-line { background: var(--rb-warn-bg); box-shadow: inset 3px 0 0 var(--rb-warn); }
      ul.diags { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.4rem; }
      ul.diags button { width: 100%; text-align: left; white-space: normal; display: block; font-size: 0.82rem; border-color: var(--rb-warn); }
      ul.diags .where { font-family: var(--rb-mono); font-weight: 600; color: var(--rb-warn); margin-right: 0.35rem; }
      .ok { color: var(--rb-ok); font-weight: 600; }
      dl { display: grid; grid-template-columns: auto 1fr; gap: 0.25rem 0.75rem; font-size: 0.85rem; margin: 0.5rem 0 0; }
      dt { color: var(--rb-muted); }
      dd { margin: 0; font-family: var(--rb-mono); word-break: break-all; }
      aside { display: grid; gap: 1rem; }
    `,
  ];

  @consume({ context: historyContext, subscribe: true }) @state() history?: HistoryService;
  @property({ attribute: false }) seed?: { id: string; source: string; fork: boolean };
  @property({ attribute: false }) userScenarios: UserScenario[] = [];
  @state() private diagnostics: Diagnostic[] = [];
  @state() private meta?: ScenarioMeta;
  @state() private trial?: string;
  @state() private checking = false;
  @state() private message = '';
  @query('.cm-host') private host!: HTMLDivElement;
  private view?: EditorView;
  private checker?: CheckRunner;
  private timer?: ReturnType<typeof setTimeout>;
  private checkSeq = 0;
  private appliedSeed?: object;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.checker?.dispose();
    this.checker = undefined;
    this.view?.destroy();
    this.view = undefined;
  }

  override firstUpdated(): void {
    const extensions: Extension[] = [
      lineNumbers(),
      highlightActiveLineGutter(),
      cmHistory(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      closeBrackets(),
      highlightActiveLine(),
      syntaxHighlighting(racebox),
      javascript({ typescript: true }),
      autocompletion({ override: [completeKernel] }),
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
      diagnosticField,
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ 'aria-label': 'Scenario source (TypeScript)', tabindex: '0' }),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) {
          saveDraft(u.state.doc.toString());
          this.scheduleCheck();
        }
      }),
    ];
    const draft = loadDraft();
    if (draft) this.message = `Restored your unsaved draft (${new Date(draft.savedAt).toLocaleString()}).`;
    this.view = new EditorView({
      state: EditorState.create({ doc: draft?.source ?? NEW_SCENARIO, extensions }),
      parent: this.host,
      root: this.shadowRoot!,
    });
    this.applySeed();
    this.scheduleCheck(0);
  }

  override updated(changed: PropertyValues<this>): void {
    if (changed.has('seed')) this.applySeed();
  }

  private applySeed(): void {
    const s = this.seed;
    if (!this.view || !s || this.appliedSeed === s) return;
    this.appliedSeed = s;
    this.setSource(s.fork ? forkSource(s.id, s.source) : s.source);
    this.message = s.fork ? `Forked ${s.id}: it gets its own id, so runs of the fork never mix with the original.` : `Opened ${s.id}.`;
  }

  get source(): string {
    return this.view?.state.doc.toString() ?? '';
  }

  /** Replaces the whole document (used by tests and by Open/New). */
  setSource(text: string): void {
    if (!this.view) return;
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: text } });
  }

  private scheduleCheck(delay = 300): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), delay);
  }

  private async check(): Promise<CheckResult | undefined> {
    this.checker ??= createCheckRunner();
    const seq = ++this.checkSeq;
    this.checking = true;
    const src = this.source;
    try {
      const r = await this.checker.check(src, 'user-scenario.ts');
      if (seq !== this.checkSeq) return undefined;
      this.diagnostics = r.diagnostics;
      this.meta = r.meta;
      this.trial = r.trial;
      this.view?.dispatch({ effects: setDiagnostics.of(r.diagnostics) });
      return r;
    } catch (e) {
      if (seq === this.checkSeq) this.diagnostics = [{ line: 1, column: 1, message: `the checker failed: ${(e as Error).message}`, severity: 'error', source: 'runtime' }];
      return undefined;
    } finally {
      if (seq === this.checkSeq) this.checking = false;
    }
  }

  private goto(d: Diagnostic): void {
    const v = this.view;
    if (!v) return;
    const line = v.state.doc.line(Math.min(Math.max(1, d.line), v.state.doc.lines));
    const pos = Math.min(line.to, line.from + Math.max(0, d.column - 1));
    v.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
    v.focus();
  }

  private async save(): Promise<ScenarioMeta | undefined> {
    clearTimeout(this.timer);
    const r = await this.check();
    const meta = r?.meta;
    if (!r || r.diagnostics.length || !meta) {
      this.message = 'Fix the errors first: only a scenario that loads can be saved or run.';
      return undefined;
    }
    if (!this.history) {
      this.message = 'The history is not available: the scenario was not saved.';
      return meta;
    }
    try {
      await this.history.saveScenario({ id: meta.id, title: meta.title, source: this.source, updatedAt: Date.now() });
      this.message = `Saved ${meta.id}.`;
      this.dispatchEvent(new CustomEvent('user-scenarios-changed', { bubbles: true, composed: true }));
    } catch (e) {
      const err = e as Error;
      this.message = err.name === 'StorageFullError' ? `Storage is full: ${err.message}` : `Could not save: ${err.message}`;
    }
    return meta;
  }

  private async run(): Promise<void> {
    const meta = await this.save();
    if (!meta) return;
    const detail: EditorRunRequest = { id: meta.id, title: meta.title, version: meta.version, actors: meta.actors, source: this.source };
    this.dispatchEvent(new CustomEvent('run-user-scenario', { detail, bubbles: true, composed: true }));
  }

  private async deleteOwn(): Promise<void> {
    const id = this.meta?.id;
    if (!id || !this.history || !this.userScenarios.some((u) => u.id === id)) return;
    if (!confirm(`Delete your scenario ${id}? Runs already made with it stay in the history.`)) return;
    await this.history.deleteScenario(id);
    this.message = `Deleted ${id}.`;
    this.dispatchEvent(new CustomEvent('user-scenarios-changed', { bubbles: true, composed: true }));
  }

  override render() {
    const errors = this.diagnostics.filter((d) => d.severity === 'error');
    const saved = this.meta && this.userScenarios.some((u) => u.id === this.meta!.id);
    return html`<div class="layout">
      <section class="card" aria-labelledby="ed-h">
        <div class="toolbar">
          <h2 id="ed-h" class="grow" style="margin:0">Scenario editor</h2>
          <div class="open">
            <label for="open-saved">Open</label>
            <select id="open-saved" @change=${(e: Event) => {
              const sel = e.target as HTMLSelectElement;
              const u = this.userScenarios.find((x) => x.id === sel.value);
              if (sel.value === '__new') { this.setSource(NEW_SCENARIO); this.message = 'New scenario from the template.'; }
              else if (u) { this.setSource(u.source); this.message = `Opened ${u.id}.`; }
              sel.value = '';
            }}>
              <option value="">Choose…</option>
              <option value="__new">New scenario (template)</option>
              ${this.userScenarios.map((u) => html`<option value=${u.id}>${u.id}</option>`)}
            </select>
          </div>
          <button type="button" @click=${() => void this.save()}>Save</button>
          ${saved ? html`<button type="button" class="danger" @click=${() => void this.deleteOwn()}>Delete</button>` : nothing}
          <button type="button" class="primary" @click=${() => void this.run()}>Run scenario</button>
        </div>
        <div class="cm-host"></div>
        ${this.message ? html`<p role="status" style="margin-top:0.6rem;font-size:0.85rem">${this.message}</p>` : nothing}
      </section>
      <aside>
        <section class="card" aria-labelledby="diag-h">
          <h3 id="diag-h">Problems</h3>
          <div role="status" aria-live="polite" data-testid="diagnostics">
            ${this.checking && !errors.length ? html`<p class="muted">Checking…</p>` : nothing}
            ${!this.checking && errors.length === 0 ? html`<p class="ok">No problems: the scenario loads.</p>` : nothing}
            ${errors.length
              ? html`<ul class="diags">${errors.map((d) => html`<li><button type="button" @click=${() => this.goto(d)}><span class="where">Line ${d.line}:</span> ${d.message}</button></li>`)}</ul>`
              : nothing}
          </div>
        </section>
        ${this.meta
          ? html`<section class="card" aria-labelledby="meta-h">
              <h3 id="meta-h">Scenario</h3>
              <dl>
                <dt>id</dt><dd>${this.meta.id}</dd>
                <dt>title</dt><dd style="font-family:var(--rb-font);word-break:normal">${this.meta.title}</dd>
                <dt>version</dt><dd>${this.meta.version}</dd>
                <dt>actors</dt><dd>${this.meta.actors}</dd>
                ${this.trial ? html`<dt>trial run</dt><dd>${this.trial}</dd>` : nothing}
              </dl>
            </section>`
          : nothing}
        <section class="card">
          <h3>How it runs</h3>
          <p class="muted" style="font-size:0.82rem">Your code is transpiled and run only in the scenario sandbox (workers in a frame that reaches neither your history nor the network), never on this page. It may import only from <code>'racebox'</code>; call the kernel through <code>k</code> (type <code>k.</code> for the NT API). Every <code>yield*</code> is a point where another CPU can step in.</p>
        </section>
      </aside>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-scenario-editor': ScenarioEditor;
  }
}
