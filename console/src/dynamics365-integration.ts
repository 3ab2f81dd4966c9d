import { html, nothing, TemplateResult } from 'lit';
import { query } from 'lit/decorators.js';
import { ApiError, failureText, Schemas, when } from './api.js';
import { ApiElement } from './api-element.js';
import './dynamics365-integration-form.js';
import type { Dynamics365IntegrationForm, StatusEventDetail } from './dynamics365-integration-form.js';
import { renderReadiness, STAGE_NAMES } from './readiness-view.js';

type Status = Schemas['IntegrationStatusDto'];

/** An alert that is open: what is wrong now and what to do. */
interface OpenAlert {
  condition: string;
  title: string;
  todo: string | null;
  opened_at: string;
}

const STATUS_NAMES = {
  none: 'Not connected',
  active: 'Active',
  invalid: 'Invalid',
  unreachable: 'Unreachable',
};
const WARNINGS: Record<string, string> = {
  secret_expires_soon:
    'The client secret expires within 14 days: create a new one in Azure and save it here.',
  secret_expired: 'The client secret has expired: create a new one in Azure and save it here.',
  secret_undecryptable: 'The stored secret cannot be decrypted by this service: paste the secret again.',
};
const CERTIFICATE_WARNINGS: Record<string, string> = {
  secret_expires_soon:
    'The certificate expires within 14 days: generate a new one (Configure → Certificate), upload it to the app registration and Test & Save.',
  secret_expired:
    'The certificate has expired: generate a new one (Configure → Certificate), upload it to the app registration and Test & Save.',
  secret_undecryptable:
    "The certificate's private key cannot be decrypted by this service: generate a new certificate.",
};

/**
 * `<dynamics365-integration>`: the Dynamics 365 card (status, environment, client, secret hint,
 * last verification, warnings, open alerts, readiness, Verify now) with Configure (the modal,
 * `<dynamics365-integration-form>`: Test, Test & Save Configuration) and Disconnect (a
 * confirmation). Set `tokenProvider` (and `api-base` when the API is elsewhere).
 */
export class Dynamics365Integration extends ApiElement {
  static properties = {
    status: { state: true },
    loading: { state: true },
    loadError: { state: true },
    busy: { state: true },
    notice: { state: true },
    openAlerts: { state: true },
  };

  declare status: Status | null;
  /** The org's open alerts (what is wrong now), shown on the card. */
  declare openAlerts: OpenAlert[];
  declare loading: boolean;
  declare loadError: string | null;
  declare busy: 'disconnect' | 'verify' | null;
  declare notice: string | null;
  private opener: HTMLElement | null = null;

  @query('dynamics365-integration-form') private form!: Dynamics365IntegrationForm;
  @query('#disconnect') private disconnectDialog!: HTMLDialogElement;

  constructor() {
    super();
    this.status = null;
    this.loading = true;
    this.loadError = null;
    this.busy = null;
    this.notice = null;
    this.openAlerts = [];
  }

  protected firstLoad(): Promise<void> {
    return this.load();
  }

  async load(): Promise<void> {
    this.loading = true;
    this.loadError = null;
    try {
      this.status = (await this.api.json<Status>('GET', '/api/v1/integrations/dynamics365')).body;
      await this.loadAlerts();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.status = null;
      else this.loadError = (error as Error).message;
    } finally {
      this.loading = false;
    }
  }

  render(): TemplateResult {
    const key = this.status?.status ?? 'none';
    return html`
      <section aria-label="Dynamics 365" class="card" part="card">
        <div class="row between">
          <h2 id="card-title">Dynamics 365</h2>
          ${
            this.loading
              ? html`<span class="badge none">Loading…</span>`
              : html`<span class="badge ${key}" part="status" data-testid="connection-status"
                  >${STATUS_NAMES[key]}</span
                >`
          }
        </div>
        <p class="help">
          Create cases and Omnichannel conversations in your Dynamics 365 when the AI hands a conversation to
          a person.
        </p>
        ${this.loadError ? html`<div class="alert" role="alert">Could not load the connection: ${this.loadError}</div>` : nothing}
        ${this.status ? this.renderDetails(this.status) : nothing}
        <div
          role="status"
          aria-live="polite"
          class=${this.notice ? 'success' : 'sr-only'}
          data-testid="card-announcement"
        >
          ${this.notice ?? ''}
        </div>
        <div class="row gap-top">
          <button class="primary" @click=${this.openConfigure} ?disabled=${this.loading}>Configure</button>
          ${
            this.status
              ? html`<button @click=${this.verifyNow} ?disabled=${this.busy !== null}>
                    ${this.busy === 'verify' ? 'Verifying…' : 'Verify now'}
                  </button>
                  <button @click=${this.openDisconnect}>Disconnect</button>`
              : nothing
          }
        </div>
      </section>
      <dynamics365-integration-form
        .status=${this.status}
        .tokenProvider=${this.tokenProvider}
        api-base=${this.apiBase}
        @dynamics365-integration-status=${this.statusChanged}
      ></dynamics365-integration-form>
      ${this.renderDisconnect()}
    `;
  }

  private renderDetails(status: Status): TemplateResult {
    const last = status.last_verification;
    return html`
      <dl>
        <dt>Environment</dt>
        <dd>${status.environment_url}</dd>
        <dt>Client ID</dt>
        <dd>${status.client_id}</dd>
        ${
          status.certificate
            ? html`<dt>Certificate</dt>
                <dd data-testid="card-certificate">
                  thumbprint <code class="thumbprint">${status.certificate.thumbprint}</code> (private key
                  stored encrypted)
                </dd>`
            : html`<dt>Client secret</dt>
                <dd>${status.client_secret_hint}… (stored encrypted)</dd>`
        }
        <dt>Last verified</dt>
        <dd>${when(status.last_verified_at)}</dd>
        ${
          status.secret_expires_at
            ? html`<dt>${status.certificate ? 'Certificate expires' : 'Secret expires'}</dt>
                <dd>${when(status.secret_expires_at)}</dd>`
            : nothing
        }
        ${
          status.messaging_endpoint
            ? html`<dt>Chats</dt>
                <dd>Omnichannel conversations (${status.messaging_endpoint})</dd>`
            : nothing
        }
      </dl>
      ${
        status.warnings.length
          ? html`<ul class="alert" aria-label="Warnings">
              ${status.warnings.map(
                (w) =>
                  html`<li>
                    ${(status.credential_type === 'certificate' ? CERTIFICATE_WARNINGS[w] : undefined) ?? WARNINGS[w] ?? w}
                  </li>`,
              )}
            </ul>`
          : nothing
      }
      ${
        last && last.outcome !== 'ok'
          ? html`<div class="alert">
              <strong
                >Last check ${last.outcome === 'rejected' ? 'rejected' : 'could not reach Microsoft'}</strong
              >
              at
              ${STAGE_NAMES[last.stage]}${last.upstream_code ? html` (<code>${last.upstream_code}</code>)` : nothing}.
              ${last.hint ? html`<p>${last.hint}</p>` : nothing}
            </div>`
          : nothing
      }
      ${
        this.openAlerts.length
          ? html`<ul class="alert" aria-label="Open alerts" data-testid="open-alerts">
              ${this.openAlerts.map(
                (a) =>
                  html`<li>
                    <strong>${a.title}</strong>
                    <small>since ${when(a.opened_at)}</small>
                    ${a.todo ? html`<p class="help">${a.todo}</p>` : nothing}
                  </li>`,
              )}
            </ul>`
          : nothing
      }
      ${status.readiness ? renderReadiness(status.readiness, 'card-readiness') : nothing}
    `;
  }

  private async loadAlerts(): Promise<void> {
    try {
      const alerts = await this.api.json<{ items: (OpenAlert & { state: string })[] }>(
        'GET',
        '/api/v1/alerts',
      );
      this.openAlerts = alerts.body.items.filter((a) => a.state === 'open');
    } catch {
      this.openAlerts = []; // The card works without them (an older service, a member without admin).
    }
  }

  /** Verify now: the stored credentials and readiness, checked again. */
  private verifyNow = async () => {
    this.busy = 'verify';
    try {
      this.status = (await this.api.json<Status>('POST', '/api/v1/integrations/dynamics365/verify')).body;
      await this.loadAlerts();
      const readiness = this.status.readiness;
      this.notice = `Verified: ${this.status.status}${readiness ? (readiness.ready ? ', ready for handoffs' : `, ${readiness.checks.filter((c) => !c.ok).length} readiness items to fix`) : ''}.`;
    } catch (error) {
      this.notice = `Verify failed: ${failureText(error)}`;
      await this.load();
    } finally {
      this.busy = null;
    }
  };

  private renderDisconnect(): TemplateResult {
    return html`
      <dialog
        id="disconnect"
        aria-labelledby="disconnect-title"
        aria-describedby="disconnect-text"
        @close=${this.restoreFocus}
      >
        <h2 id="disconnect-title">Disconnect Dynamics 365?</h2>
        <p id="disconnect-text">
          The stored credentials are deleted from this service. Cases, contacts, notes and conversations
          already created in Dynamics 365 stay there; handoffs not yet delivered are cancelled.
        </p>
        <div class="row end">
          <button type="button" @click=${() => this.disconnectDialog.close()}>Cancel</button>
          <button type="button" class="danger" @click=${this.disconnect} ?disabled=${this.busy !== null}>
            Disconnect
          </button>
        </div>
      </dialog>
    `;
  }

  private openConfigure = (event: Event) => {
    void this.form.open(event.currentTarget as HTMLElement);
  };

  private openDisconnect = (event: Event) => {
    this.opener = event.currentTarget as HTMLElement;
    this.disconnectDialog.showModal();
  };

  private restoreFocus = () => {
    this.opener?.focus();
    this.opener = null;
  };

  /** The form saved the connection (or reloaded it on a conflict). */
  private statusChanged = (event: Event) => {
    const { status, notice } = (event as CustomEvent<StatusEventDetail>).detail;
    this.status = status;
    if (notice) this.notice = notice;
    void this.loadAlerts();
  };

  private disconnect = async () => {
    if (!this.status) return;
    this.busy = 'disconnect';
    try {
      await this.api.send('DELETE', '/api/v1/integrations/dynamics365', undefined, {
        'if-match': `"${this.status.version}"`,
      });
      this.status = null;
      this.notice = 'Dynamics 365 disconnected. Records in Dynamics 365 stay.';
      this.dispatchEvent(new CustomEvent('dynamics365-changed', { bubbles: true, composed: true }));
    } catch (error) {
      this.notice = `Could not disconnect: ${(error as Error).message}`;
      await this.load();
    } finally {
      this.busy = null;
      this.disconnectDialog.close();
    }
  };
}

customElements.define('dynamics365-integration', Dynamics365Integration);

declare global {
  interface HTMLElementTagNameMap {
    'dynamics365-integration': Dynamics365Integration;
  }
}
