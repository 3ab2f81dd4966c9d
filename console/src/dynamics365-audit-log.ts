import { Task } from '@lit/task';
import { html, nothing, TemplateResult } from 'lit';
import { query } from 'lit/decorators.js';
import { failureText, Schemas, when } from './api.js';
import { ApiElement } from './api-element.js';
import { ACTION_NAMES, actorName, auditSentence } from './audit-sentences.js';

type AuditEvent = Schemas['AuditEventDto'];

/** `<dynamics365-audit-log>`: every change to the connection, filtered, paged, exported, and the chain checked. */
export class Dynamics365AuditLog extends ApiElement {
  static properties = {
    items: { state: true },
    cursors: { state: true },
    next: { state: true },
    error: { state: true },
    verification: { state: true },
    loading: { state: true },
  };

  declare items: AuditEvent[];
  /** Cursors of the pages before this one (for Previous). */
  declare cursors: (string | undefined)[];
  declare next: string | null;
  declare error: string | null;
  declare verification: { ok: boolean; checked: number; first_broken_id: string | null } | null;
  declare loading: boolean;

  @query('#audit-action') private actionInput!: HTMLSelectElement | null;
  @query('#audit-actor') private actorInput!: HTMLInputElement | null;
  @query('#audit-since') private sinceInput!: HTMLInputElement | null;
  @query('#audit-until') private untilInput!: HTMLInputElement | null;
  private current?: string;

  constructor() {
    super();
    this.items = [];
    this.cursors = [];
    this.next = null;
    this.error = null;
    this.verification = null;
    this.loading = false;
  }

  protected firstLoad(): Promise<void> {
    return this.page(undefined);
  }

  /** The filters as a query string (without the cursor). */
  private filters(): URLSearchParams {
    const query = new URLSearchParams();
    const value = (input: HTMLInputElement | HTMLSelectElement | null) => input?.value.trim() ?? '';
    if (value(this.actionInput)) query.set('action', value(this.actionInput));
    if (value(this.actorInput)) query.set('actor', value(this.actorInput));
    if (value(this.sinceInput)) query.set('since', new Date(value(this.sinceInput)).toISOString());
    if (value(this.untilInput)) query.set('until', new Date(value(this.untilInput)).toISOString());
    return query;
  }

  /**
   * A page of the log, through a @lit/task: a new page or filter aborts the one under way, and only
   * the latest answer is shown.
   */
  private readonly pages = new Task<
    [string, string | undefined],
    { items: AuditEvent[]; next: string | null; cursor: string | undefined }
  >(this, {
    autoRun: false,
    task: async ([query, cursor], { signal }) => {
      const page = await this.api.json<{ items: AuditEvent[]; next_cursor: string | null }>(
        'GET',
        `/api/v1/audit-events?${query}`,
        undefined,
        {},
        signal,
      );
      return { items: page.body.items, next: page.body.next_cursor, cursor };
    },
    onComplete: (page) => {
      this.items = page.items;
      this.next = page.next;
      this.current = page.cursor;
      this.loading = false;
    },
    onError: (error) => {
      this.error = failureText(error);
      this.loading = false;
    },
  });

  async page(cursor: string | undefined): Promise<void> {
    this.loading = true;
    this.error = null;
    const query = this.filters();
    query.set('limit', '25');
    if (cursor) query.set('cursor', cursor);
    await this.pages.run([query.toString(), cursor]);
  }

  render(): TemplateResult {
    return html`
      <section aria-label="Audit log">
        <h2>Audit log</h2>
        <form class="row" @submit=${this.applyFilters} aria-label="Filter the audit log">
          <div>
            <label for="audit-action">What</label>
            <select id="audit-action">
              <option value="">Everything</option>
              ${Object.entries(ACTION_NAMES).map(([a, name]) => html`<option value=${a}>${name}</option>`)}
            </select>
          </div>
          <div>
            <label for="audit-actor">Who</label>
            <input id="audit-actor" autocomplete="off" placeholder="Name, or System" />
          </div>
          <div>
            <label for="audit-since">From</label>
            <input id="audit-since" type="datetime-local" />
          </div>
          <div>
            <label for="audit-until">Until</label>
            <input id="audit-until" type="datetime-local" />
          </div>
          <div class="align-end"><button type="submit">Apply filters</button></div>
        </form>
        ${this.error ? html`<div class="alert" role="alert">${this.error}</div>` : nothing}
        <div class="table-wrap">
          <table part="table" aria-label="Audit events" aria-busy=${this.loading ? 'true' : 'false'}>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What happened</th>
                <th scope="col">Who</th>
              </tr>
            </thead>
            <tbody>
              ${
                this.items.length === 0
                  ? html`<tr>
                      <td colspan="3">${this.loading ? 'Loading…' : 'No events.'}</td>
                    </tr>`
                  : this.items.map(
                      (e) =>
                        html`<tr data-action=${e.action}>
                          <td class="when" data-label="When">${when(e.occurred_at)}</td>
                          <td data-label="What happened">${auditSentence(e)}</td>
                          <td data-label="Who">${actorName(e)}</td>
                        </tr>`,
                    )
              }
            </tbody>
          </table>
        </div>
        <div class="row gap-top">
          <button @click=${this.previous} ?disabled=${this.cursors.length === 0 || this.loading}>
            Previous page
          </button>
          <button @click=${this.more} ?disabled=${!this.next || this.loading}>Next page</button>
          <button @click=${this.exportCsv}>Export CSV</button>
          <button @click=${this.verify}>Verify the chain</button>
        </div>
        <div role="status" aria-live="polite" data-testid="audit-verification">
          ${
            this.verification
              ? this.verification.ok
                ? html`<p class="success">
                    The audit chain is intact: ${this.verification.checked} events checked.
                  </p>`
                : html`<p class="alert">
                    The audit chain is broken at event ${this.verification.first_broken_id}.
                  </p>`
              : nothing
          }
        </div>
      </section>
    `;
  }

  private applyFilters = (event: Event) => {
    event.preventDefault();
    this.cursors = [];
    void this.page(undefined);
  };

  private more = () => {
    this.cursors = [...this.cursors, this.current];
    void this.page(this.next ?? undefined);
  };

  private previous = () => {
    const cursors = [...this.cursors];
    const cursor = cursors.pop();
    this.cursors = cursors;
    void this.page(cursor);
  };

  private exportCsv = async () => {
    try {
      const response = await this.api.send(
        'GET',
        `/api/v1/audit-events?${this.filters().toString()}`,
        undefined,
        {
          accept: 'text/csv',
        },
      );
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = 'dynamics365-audit-log.csv';
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      this.error = (error as Error).message;
    }
  };

  private verify = async () => {
    try {
      this.verification = (
        await this.api.json<{ ok: boolean; checked: number; first_broken_id: string | null }>(
          'GET',
          '/api/v1/audit-events/verify',
        )
      ).body;
    } catch (error) {
      this.error = (error as Error).message;
    }
  };
}

customElements.define('dynamics365-audit-log', Dynamics365AuditLog);

declare global {
  interface HTMLElementTagNameMap {
    'dynamics365-audit-log': Dynamics365AuditLog;
  }
}
