import { html, nothing, TemplateResult } from 'lit';
import { ApiError, failureText, when } from './api.js';
import { ApiElement } from './api-element.js';

interface Settings {
  emails: string[];
  webhook_url: string | null;
  events: string[] | null;
  email_available: boolean;
  webhook_secret?: string;
  version: number;
}

interface Alert {
  id: string;
  condition: string;
  stage: string | null;
  state: 'open' | 'resolved';
  title: string;
  todo: string | null;
  opened_at: string;
  resolved_at: string | null;
  deliveries: { channel: string; notice: string; state: string; last_error: string | null }[];
}

const CONDITIONS: [string, string][] = [
  ['connection.status_changed', 'The connection stops working (and works again)'],
  ['secret.expiring', 'The client secret expires within 14 days, 3 days, or has expired'],
  ['readiness.failed', 'The app is no longer ready for handoffs'],
  ['handoffs.failing', 'A handoff failed, or handoffs wait held for more than 15 minutes'],
  ['messaging.webhook_rejected', "Microsoft's messaging webhook calls are refused"],
];

/**
 * `<dynamics365-notifications>`: where the org's alerts go — e-mail recipients, a signed webhook
 * (its secret shown once), which conditions — with Send test, and the alerts so far.
 */
export class Dynamics365Notifications extends ApiElement {
  static properties = {
    settings: { state: true },
    alerts: { state: true },
    error: { state: true },
    notice: { state: true },
    secret: { state: true },
    busy: { state: true },
  };

  declare settings: Settings | null;
  declare alerts: Alert[];
  declare error: string | null;
  declare notice: string | null;
  declare secret: string | null;
  declare busy: boolean;

  constructor() {
    super();
    this.settings = null;
    this.alerts = [];
    this.error = null;
    this.notice = null;
    this.secret = null;
    this.busy = false;
  }

  protected async firstLoad(): Promise<void> {
    try {
      this.settings = (await this.api.json<Settings>('GET', '/api/v1/notifications')).body;
      this.alerts = (await this.api.json<{ items: Alert[] }>('GET', '/api/v1/alerts')).body.items;
    } catch (error) {
      this.error = failureText(error);
    }
  }

  render(): TemplateResult {
    const s = this.settings;
    return html`
      <section aria-label="Notifications">
        <h2>Notifications</h2>
        <p class="help">
          Hear that the connection broke, a secret is expiring or handoffs are failing — before your customers
          do. Each problem is announced once, reminded daily while it lasts, and its recovery announced.
        </p>
        ${this.error ? html`<div class="alert" role="alert">${this.error}</div>` : nothing}
        <div role="status" aria-live="polite" data-testid="notifications-status">
          ${this.notice ? html`<p class="success">${this.notice}</p>` : nothing}
        </div>
        ${
          this.secret
            ? html`<div class="alert" data-testid="webhook-secret">
                <strong>Copy the webhook's signing secret now; it is not shown again.</strong>
                <p><code>${this.secret}</code></p>
                <p class="help">
                  Verify each call with any Standard Webhooks library (headers webhook-id, webhook-timestamp,
                  webhook-signature).
                </p>
              </div>`
            : nothing
        }
        ${
          s
            ? html`<form @submit=${this.save}>
                <label for="emails">E-mail recipients</label>
                <input
                  id="emails"
                  name="emails"
                  .value=${s.emails.join(', ')}
                  ?disabled=${!s.email_available}
                  aria-describedby="emails-help"
                />
                <p class="help" id="emails-help">
                  ${
                    s.email_available
                      ? 'Comma-separated, at most 10.'
                      : 'E-mail is not set up on this service (SMTP_URL); use a webhook, or ask the operator.'
                  }
                </p>
                <label for="webhook_url">Webhook URL</label>
                <input
                  id="webhook_url"
                  name="webhook_url"
                  type="url"
                  .value=${s.webhook_url ?? ''}
                  placeholder="https://hooks.example.com/dynamics365"
                  aria-describedby="webhook-help"
                />
                <p class="help" id="webhook-help">
                  A public https address. A new address gets a new signing secret, shown once. Empty: no
                  webhook.
                </p>
                <fieldset>
                  <legend>Announce</legend>
                  ${CONDITIONS.map(
                    ([value, label]) =>
                      html`<label class="check"
                        ><input
                          type="checkbox"
                          name="events"
                          value=${value}
                          ?checked=${!s.events || s.events.includes(value)}
                        />
                        ${label}</label
                      >`,
                  )}
                </fieldset>
                <div class="row gap-top">
                  <button class="primary" type="submit" ?disabled=${this.busy}>Save notifications</button>
                  <button type="button" @click=${this.test} ?disabled=${this.busy}>Send test</button>
                </div>
              </form>`
            : html`<p>Loading…</p>`
        }
        <h3>Alerts</h3>
        ${
          this.alerts.length === 0
            ? html`<p class="help">No alerts so far.</p>`
            : html`<ul class="checklist" aria-label="Alerts">
                ${this.alerts.map(
                  (a) =>
                    html`<li data-alert=${a.condition}>
                      <span class="badge ${a.state === 'open' ? 'rejected' : 'ok'}"
                        >${a.state === 'open' ? 'Open' : 'Resolved'}</span
                      >
                      <strong>${a.title}</strong>
                      <small
                        >since
                        ${when(a.opened_at)}${a.resolved_at ? html`, resolved ${when(a.resolved_at)}` : nothing}</small
                      >
                      ${a.state === 'open' && a.todo ? html`<p class="help">${a.todo}</p>` : nothing}
                      <p class="help">
                        ${a.deliveries.map((d) => `${d.notice} by ${d.channel}: ${d.state}${d.last_error ? ` (${d.last_error})` : ''}`).join(' · ') || 'Not sent: no channel was set.'}
                      </p>
                    </li>`,
                )}
              </ul>`
        }
      </section>
    `;
  }

  private save = async (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const emails = field(data, 'emails')
      .split(/[,\s]+/)
      .map((e) => e.trim())
      .filter(Boolean);
    const checked = data.getAll('events').map(String);
    const body = {
      ...(this.settings?.email_available ? { emails } : {}),
      webhook_url: field(data, 'webhook_url').trim() || null,
      events: checked.length === CONDITIONS.length ? null : checked,
    };
    this.busy = true;
    this.error = null;
    this.notice = null;
    try {
      const saved = (await this.api.json<Settings>('PUT', '/api/v1/notifications', body)).body;
      this.secret = saved.webhook_secret ?? null;
      this.settings = saved;
      this.notice = 'Notifications saved.';
    } catch (error) {
      this.error =
        error instanceof ApiError && error.details.length
          ? error.details.map((d) => d.message).join('; ')
          : failureText(error);
    } finally {
      this.busy = false;
    }
  };

  private test = async () => {
    this.busy = true;
    this.error = null;
    this.notice = null;
    try {
      const answer = await this.api.json<{
        channels: { channel: string; state: string; error: string | null }[];
      }>('POST', '/api/v1/notifications/test');
      this.notice = `Test sent — ${answer.body.channels
        .map((c) => `${c.channel}: ${c.state}${c.error ? ` (${c.error})` : ''}`)
        .join(', ')}.`;
    } catch (error) {
      this.error = failureText(error);
    } finally {
      this.busy = false;
    }
  };
}

/** A text field of the form ('' when absent). */
function field(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
}

customElements.define('dynamics365-notifications', Dynamics365Notifications);

declare global {
  interface HTMLElementTagNameMap {
    'dynamics365-notifications': Dynamics365Notifications;
  }
}
