import { Task } from '@lit/task';
import { html, nothing, TemplateResult } from 'lit';
import { query } from 'lit/decorators.js';
import { failureText, Schemas, when } from './api.js';
import { ApiElement } from './api-element.js';
import { recordUrl } from './dynamics-links.js';

type Handoff = Schemas['HandoffDocumentDto'];
type Attempt = Schemas['HandoffAttemptDto'];
/** A handoff's attempt history as shown: loading, loaded, or why it could not be. */
type History = 'loading' | Attempt[] | { error: string };
const OUTCOMES: Record<Attempt['outcome'], string> = {
  delivered: 'delivered',
  retry: 'failed, retried',
  held: 'held',
  failed: 'failed',
  cancelled: 'cancelled',
};

const STATES = ['pending', 'delivering', 'delivered', 'held', 'failed', 'cancelled'];
/** The API's channels (HANDOFF_CHANNELS), by the name the filter shows. */
const CHANNELS: Record<string, string> = {
  web: 'Web chat',
  sms: 'SMS',
  whatsapp: 'WhatsApp',
  email: 'E-mail',
  phone_voice: 'Phone',
  web_voice: 'Web voice',
  slack: 'Slack',
  instagram: 'Instagram',
  messenger: 'Messenger',
  api: 'API',
};
/** The view to open for what holds a handoff. */
export const NAVIGATE_EVENT = 'dynamics365-navigate';

/** `<dynamics365-handoffs>`: the org's handoffs, newest first, with what they created in Dynamics and Retry for failed ones. */
export class Dynamics365Handoffs extends ApiElement {
  static properties = {
    items: { state: true },
    next: { state: true },
    error: { state: true },
    notice: { state: true },
    loading: { state: true },
    environmentUrl: { state: true },
    histories: { state: true },
  };

  declare items: Handoff[];
  declare next: string | null;
  declare error: string | null;
  declare notice: string | null;
  declare loading: boolean;
  /** The connected environment, for links to what each handoff created. */
  declare environmentUrl: string | null;
  /** The attempt histories opened, by session id. */
  declare histories: Map<string, History>;

  @query('#handoff-session') private sessionInput!: HTMLInputElement | null;
  @query('#handoff-state') private stateSelect!: HTMLSelectElement | null;
  @query('#handoff-channel') private channelSelect!: HTMLSelectElement | null;

  constructor() {
    super();
    this.items = [];
    this.next = null;
    this.error = null;
    this.notice = null;
    this.loading = false;
    this.environmentUrl = null;
    this.histories = new Map();
  }

  protected async firstLoad(): Promise<void> {
    await Promise.all([this.load(false), this.loadEnvironment()]);
  }

  private async loadEnvironment(): Promise<void> {
    try {
      const status = await this.api.json<{ environment_url: string }>(
        'GET',
        '/api/v1/integrations/dynamics365',
      );
      this.environmentUrl = status.body.environment_url;
    } catch {
      this.environmentUrl = null; // not connected: no links
    }
  }

  /**
   * The listing as the filters ask for it. A @lit/task: a new load aborts the one under way, and only
   * the latest one's answer is shown — a slow answer to an earlier filter never replaces it.
   */
  private readonly listing = new Task<[string], { items: Handoff[]; next: string | null }>(this, {
    autoRun: false,
    task: ([request], { signal }) => this.fetchListing(request, signal),
    onComplete: (page) => {
      this.items = page.items;
      this.next = page.next;
      this.loading = false;
    },
    onError: (error) => {
      this.error = failureText(error);
      this.loading = false;
    },
  });

  /** `session:<id>` (one handoff, asked for directly) or the listing's query string. */
  private async fetchListing(
    request: string,
    signal: AbortSignal,
  ): Promise<{ items: Handoff[]; next: string | null }> {
    if (request.startsWith('session:')) {
      const session = request.slice('session:'.length);
      const one = await this.api
        .json<Handoff>('GET', `/api/v1/handoffs/${encodeURIComponent(session)}`, undefined, {}, signal)
        .catch((error: Error & { status?: number }) => {
          if (error.status === 404) return null;
          throw error;
        });
      return { items: one ? [one.body] : [], next: null };
    }
    const page = await this.api.json<{ items: Handoff[]; next_cursor: string | null }>(
      'GET',
      `/api/v1/handoffs?${request}`,
      undefined,
      {},
      signal,
    );
    return { items: page.body.items, next: page.body.next_cursor };
  }

  async load(more: boolean): Promise<void> {
    this.error = null;
    const session = this.sessionInput?.value.trim();
    const query = new URLSearchParams({ limit: '25' });
    const state = this.stateSelect?.value;
    if (state) query.set('state', state);
    const channel = this.channelSelect?.value;
    if (channel) query.set('channel', channel);
    if (!more) {
      this.loading = true;
      await this.listing.run([session ? `session:${session}` : query.toString()]);
      return;
    }
    // The next page of the listing shown.
    if (!this.next) return;
    query.set('cursor', this.next);
    this.loading = true;
    try {
      const page = await this.fetchListing(query.toString(), new AbortController().signal);
      this.items = [...this.items, ...page.items];
      this.next = page.next;
    } catch (error) {
      this.error = failureText(error);
    } finally {
      this.loading = false;
    }
  }

  render(): TemplateResult {
    return html`
      <section aria-label="Handoffs">
        <h2>Handoffs</h2>
        <div class="row">
          <div>
            <label for="handoff-state">State</label>
            <select id="handoff-state" @change=${() => void this.load(false)}>
              <option value="">All states</option>
              ${STATES.map((s) => html`<option value=${s}>${s}</option>`)}
            </select>
          </div>
          <div>
            <label for="handoff-channel">Channel</label>
            <select id="handoff-channel" @change=${() => void this.load(false)}>
              <option value="">All channels</option>
              ${Object.entries(CHANNELS).map(([value, name]) => html`<option value=${value}>${name}</option>`)}
            </select>
          </div>
          <form
            class="row"
            role="search"
            @submit=${(e: Event) => {
              e.preventDefault();
              void this.load(false);
            }}
          >
            <div>
              <label for="handoff-session">Session id</label>
              <input id="handoff-session" type="search" autocomplete="off" />
            </div>
            <div class="align-end"><button type="submit">Find</button></div>
          </form>
          <div class="align-end"><button @click=${() => void this.load(false)}>Refresh</button></div>
        </div>
        ${this.error ? html`<div class="alert" role="alert">${this.error}</div>` : nothing}
        <div role="status" aria-live="polite">
          ${this.notice ? html`<p class="success">${this.notice}</p>` : nothing}
        </div>
        <div class="table-wrap">
          <table part="table" aria-label="Handoffs" aria-busy=${this.loading ? 'true' : 'false'}>
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col">State</th>
                <th scope="col">In Dynamics 365</th>
                <th scope="col">Last error</th>
                <th scope="col"><span class="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              ${
                this.items.length === 0
                  ? html`<tr>
                      <td colspan="5">${this.loading ? 'Loading…' : 'No handoffs.'}</td>
                    </tr>`
                  : this.items.map((h) => this.row(h))
              }
            </tbody>
          </table>
        </div>
        ${this.next ? html`<button @click=${() => void this.load(true)}>Load more</button>` : nothing}
      </section>
    `;
  }

  private row(h: Handoff): TemplateResult {
    const d = h.dynamics;
    const link = recordUrl(this.environmentUrl, d);
    return html`<tr data-session=${h.session_id}>
      <td data-label="Session">
        <strong class="session">${h.session_id}</strong><br />${CHANNELS[h.channel] ?? h.channel} →
        ${h.route === 'conversation' ? 'conversation' : 'case'} <br /><small>${when(h.created_at)}</small>
      </td>
      <td data-label="State">
        <span class="badge ${h.state}">${h.state}</span
        >${h.reason ? html`<br /><small>${h.reason}</small>` : nothing}
        ${
          h.state === 'held' && h.reason === 'connection_invalid'
            ? html`<br /><button
                  class="link"
                  @click=${() => this.navigate('integration')}
                  aria-label="Fix the connection for ${h.session_id}"
                >
                  Fix the connection
                </button>`
            : nothing
        }
        ${
          h.attempts
            ? html`<br /><button
                  class="link"
                  aria-expanded=${this.histories.has(h.session_id) ? 'true' : 'false'}
                  aria-controls="attempts-${h.session_id}"
                  aria-label="${h.attempts} attempt${h.attempts === 1 ? '' : 's'} of ${h.session_id}"
                  @click=${() => void this.toggleHistory(h.session_id)}
                >
                  ${h.attempts} attempt${h.attempts === 1 ? '' : 's'}
                </button>`
            : nothing
        }
        ${this.renderHistory(h)}
        ${
          h.content_purged_at
            ? html`<br /><span class="badge none" title="What the customer wrote was purged"
                  >content purged</span
                >
                <small>${when(h.content_purged_at)}</small>`
            : nothing
        }
      </td>
      <td data-label="In Dynamics 365">
        ${d.ticket_number ? html`Case <strong class="token">${d.ticket_number}</strong><br /><small class="token">${d.incident_id}</small>` : nothing}
        ${d.conversation_id ? html`Conversation <small class="token">${d.conversation_id}</small> (${d.conversation_state})` : nothing}
        ${
          link
            ? html`<br /><a href=${link} target="_blank" rel="noopener noreferrer"
                  >Open in Dynamics 365<span class="sr-only"> (${d.ticket_number ?? h.session_id})</span></a
                >`
            : nothing
        }
        ${!d.ticket_number && !d.conversation_id ? '—' : nothing}
      </td>
      <td data-label="Last error">
        ${
          h.last_error
            ? html`${h.last_error.stage}${h.last_error.upstream_code ? html` <code>${h.last_error.upstream_code}</code>` : nothing}:
              ${h.last_error.message}${h.last_error.hint ? html`<p class="help">${h.last_error.hint}</p>` : nothing}`
            : '—'
        }
      </td>
      <td data-label="">
        ${
          h.state === 'failed' && !h.content_purged_at
            ? html`<button
                @click=${() => void this.retry(h.session_id)}
                aria-label="Retry handoff ${h.session_id}"
              >
                Retry
              </button>`
            : nothing
        }
      </td>
    </tr>`;
  }

  /** Each attempt as it ended: when, how, and where it stopped with Microsoft's answer. */
  private renderHistory(h: Handoff): TemplateResult | typeof nothing {
    const history = this.histories.get(h.session_id);
    if (!history) return nothing;
    if (history === 'loading')
      return html`<p id="attempts-${h.session_id}" class="help">Loading attempts…</p>`;
    if ('error' in history) return html`<p id="attempts-${h.session_id}" class="alert">${history.error}</p>`;
    return html`<ol
      id="attempts-${h.session_id}"
      class="attempts"
      aria-label="Attempts of ${h.session_id}"
      reversed
    >
      ${history.map(
        (a) =>
          html`<li>
            <strong>${OUTCOMES[a.outcome]}</strong>${a.reason ? html` (${a.reason})` : nothing}
            <small>${when(a.ended_at)}</small>
            ${
              a.error
                ? html`<br /><small
                      >${a.error.stage}${a.error.upstream_status ? ` ${a.error.upstream_status}` : ''}${a.error.upstream_code ? html` <code>${a.error.upstream_code}</code>` : nothing}:
                      ${a.error.message}</small
                    >`
                : nothing
            }
            ${a.next_attempt_at ? html`<br /><small>next attempt ${when(a.next_attempt_at)}</small>` : nothing}
          </li>`,
      )}
    </ol>`;
  }

  private async toggleHistory(sessionId: string): Promise<void> {
    const histories = new Map(this.histories);
    if (histories.delete(sessionId)) {
      this.histories = histories;
      return;
    }
    this.histories = new Map(histories).set(sessionId, 'loading');
    let history: History;
    try {
      history = (
        await this.api.json<Schemas['HandoffAttemptsDto']>(
          'GET',
          `/api/v1/handoffs/${encodeURIComponent(sessionId)}/attempts`,
        )
      ).body.items;
    } catch (error) {
      history = { error: `Could not load the attempts: ${failureText(error)}` };
    }
    if (this.histories.has(sessionId)) this.histories = new Map(this.histories).set(sessionId, history);
  }

  private navigate(view: 'integration'): void {
    this.dispatchEvent(new CustomEvent(NAVIGATE_EVENT, { detail: { view }, bubbles: true, composed: true }));
  }

  private async retry(sessionId: string): Promise<void> {
    try {
      await this.api.json('POST', `/api/v1/handoffs/${encodeURIComponent(sessionId)}/retry`);
      this.notice = `Handoff ${sessionId} queued again.`;
      await this.load(false);
    } catch (error) {
      this.error = (error as Error).message;
    }
  }
}

customElements.define('dynamics365-handoffs', Dynamics365Handoffs);

declare global {
  interface HTMLElementTagNameMap {
    'dynamics365-handoffs': Dynamics365Handoffs;
  }
}
