import { html, nothing, TemplateResult } from 'lit';
import { query } from 'lit/decorators.js';
import { ApiError, failureText, Schemas, StageResult } from './api.js';
import { ApiElement } from './api-element.js';
import { Credential, Field, formBody, FormValues } from './integration-form.js';
import { Readiness, readinessSentence, renderReadiness, STAGE_NAMES } from './readiness-view.js';

type Status = Schemas['IntegrationStatusDto'];
type Certificate = Schemas['CertificateDto'];

/**
 * Fired (bubbling, composed) when the form has a newer connection document: after Test & Save
 * (with the sentence to announce) or after reloading it on a conflict.
 */
const STATUS_EVENT = 'dynamics365-integration-status';
export type StatusEventDetail = { status: Status; notice: string | null };

/** Optional ids among the case defaults, and the messaging settings: [field, label, help]. */
const OPTIONAL_IDS = [
  ['default_owner_id', 'Owner (user GUID)', 'New cases are assigned to this user; empty: the app user.'],
  ['default_queue_id', 'Queue (GUID)', 'New cases are added to this queue; empty: unified routing decides.'],
  ['default_workstream_id', 'Workstream (GUID)', 'Omnichannel workstream for chats (optional).'],
] as const;
const MESSAGING_FIELDS = [
  [
    'messaging_endpoint',
    'Messaging API endpoint',
    'https://m-<organization id>.<geo>.omnichannelengagementhub.com',
  ],
  ['messaging_channel_id', 'Messaging channel ID', 'The id of your custom messaging channel record.'],
  [
    'messaging_organization_id',
    'Organization ID',
    'Power Platform admin center → your environment → Organization ID.',
  ],
  [
    'messaging_scope',
    'Messaging scope (optional)',
    'Derived for *.dynamics.com environments; needed elsewhere.',
  ],
  [
    'messaging_webhook_audience',
    'Webhook token audience (optional)',
    'The Application ID URI you exposed for the webhook (Expose an API); empty: api://<Client ID>.',
  ],
  [
    'messaging_webhook_caller_id',
    'Webhook caller app (optional)',
    'The client ID of the app whose token calls the webhook; empty: this Client ID.',
  ],
] as const;

/** Each field's label, for the sentence that points at it. */
const FIELD_LABELS: Record<Field, string> = {
  client_id: 'Client ID',
  client_secret: 'Client Secret',
  certificate_id: 'Certificate',
  tenant_id: 'Tenant ID',
  environment_url: 'Environment URL',
  secret_expires_at: 'Secret expires',
  default_priority: 'Priority',
  ticket_properties: 'Ticket properties',
  ...Object.fromEntries([...OPTIONAL_IDS, ...MESSAGING_FIELDS].map(([name, label]) => [name, label])),
} as Record<Field, string>;
const FORM_FIELDS = Object.keys(FIELD_LABELS) as Field[];

/** A verification's stages as they came out: passed, the one that failed, and those not reached. */
interface StageLine {
  stage: StageResult['stage'];
  state: 'ok' | 'failed' | 'skipped';
  result?: StageResult;
}

/**
 * `<dynamics365-integration-form>`: the Configure modal of the Dynamics 365 card — the app
 * registration's values with its credential (a client secret, or a certificate generated here),
 * case defaults and messaging settings; Test (nothing saved) and Test &
 * Save (the stages as they passed, the failed one with Microsoft's code, the hint under the field at
 * fault). `status` is the connection as stored (null: not connected); `open(opener)` shows it.
 */
export class Dynamics365IntegrationForm extends ApiElement {
  static properties = {
    status: { attribute: false },
    busy: { state: true },
    stages: { state: true },
    message: { state: true },
    problems: { state: true },
    readiness: { state: true },
    credential: { state: true },
    certificate: { state: true },
  };

  declare status: Status | null;
  declare busy: 'test' | 'save' | 'generate' | null;
  /** The kind of credential chosen: a client secret, or a certificate made here. */
  declare credential: Credential;
  /** A certificate generated in this modal and not saved yet (its private key stays in the service). */
  declare certificate: (Certificate & { download: string }) | null;
  declare stages: StageLine[];
  declare message: { kind: 'success' | 'error'; text: string; hint?: string | null; reload?: boolean } | null;
  declare problems: Partial<Record<Field, string>>;
  /** Readiness from the last Test or Test & Save. */
  declare readiness: Readiness | null;
  private opener: HTMLElement | null = null;

  @query('#configure') private dialog!: HTMLDialogElement;
  @query('form') private form!: HTMLFormElement;
  @query('#generate-certificate') private generateButton!: HTMLButtonElement | null;

  constructor() {
    super();
    this.status = null;
    this.busy = null;
    this.stages = [];
    this.message = null;
    this.problems = {};
    this.readiness = null;
    this.credential = 'client_secret';
    this.certificate = null;
  }

  /** Nothing to load: the card owns the connection and passes it in. */
  protected firstLoad(): Promise<void> {
    return Promise.resolve();
  }

  /** Opens the modal with the stored values; focus returns to `opener` when it closes. */
  async open(opener: HTMLElement | null): Promise<void> {
    this.opener = opener;
    this.credential = this.status?.credential_type ?? 'client_secret';
    this.forgetCertificate();
    this.stages = [];
    this.message = null;
    this.problems = {};
    this.readiness = null;
    await this.updateComplete;
    this.fill();
    this.dialog.showModal();
    this.element('client_id')?.focus();
  }

  render(): TemplateResult {
    return this.renderModal();
  }

  private renderModal(): TemplateResult {
    const s = this.status;
    const field = (
      name: Field,
      label: string,
      help: string | TemplateResult,
      options: { type?: string; value?: string; placeholder?: string; autocomplete?: string } = {},
    ) => html`
      <label for=${name}>${label}</label>
      <input
        id=${name}
        name=${name}
        type=${options.type ?? 'text'}
        .value=${options.value ?? ''}
        placeholder=${options.placeholder ?? ''}
        autocomplete=${options.autocomplete ?? 'off'}
        spellcheck="false"
        aria-describedby="${name}-help${this.problems[name] ? ` ${name}-error` : ''}"
        aria-invalid=${this.problems[name] ? 'true' : 'false'}
      />
      <p class="help" id="${name}-help">${help}</p>
      ${this.problems[name] ? html`<p class="field-error" id="${name}-error">${this.problems[name]}</p>` : nothing}
    `;
    return html`
      <dialog
        id="configure"
        aria-labelledby="configure-title"
        @cancel=${this.clearSecret}
        @close=${this.restoreFocus}
      >
        <form method="dialog" @submit=${(e: Event) => e.preventDefault()} novalidate>
          <h2 id="configure-title">Configure Dynamics 365</h2>
          <p class="help">
            Paste the values from your Azure app registration — with its client secret, or a certificate made
            here. They are checked live with Microsoft before anything is saved.
          </p>
          ${field(
            'client_id',
            'Client ID',
            'Azure portal → App registrations → your app → Overview → Application (client) ID.',
            {
              value: s?.client_id,
              placeholder: '00000000-0000-0000-0000-000000000000',
            },
          )}
          <fieldset class="choice">
            <legend>Credential</legend>
            ${(
              [
                ['client_secret', 'Client secret'],
                ['certificate', 'Certificate (recommended by Microsoft)'],
              ] as const
            ).map(
              ([value, label]) =>
                html`<label class="check"
                  ><input
                    type="radio"
                    name="credential"
                    value=${value}
                    .checked=${this.credential === value}
                    @change=${() => (this.credential = value)}
                  />
                  ${label}</label
                >`,
            )}
          </fieldset>
          ${
            this.credential === 'client_secret'
              ? field(
                  'client_secret',
                  'Client Secret',
                  s?.credential_type === 'client_secret'
                    ? html`The secret's <strong>Value</strong>, not the Secret ID (Certificates &amp;
                        secrets). Leave empty to keep the stored secret (${s.client_secret_hint}…).`
                    : html`The secret's <strong>Value</strong>, not the Secret ID: Azure shows it once, under
                        Certificates &amp; secrets.`,
                  { type: 'password', autocomplete: 'new-password' },
                )
              : this.renderCertificate(s)
          }
          ${field(
            'tenant_id',
            'Tenant ID',
            'Overview → Directory (tenant) ID — not the Object ID or the Application ID.',
            {
              value: s?.tenant_id,
            },
          )}
          ${field(
            'environment_url',
            'Environment URL',
            'As the browser shows it, e.g. https://yourorg.crm.dynamics.com — no path, no trailing slash.',
            {
              value: s?.environment_url,
              placeholder: 'https://yourorg.crm.dynamics.com',
            },
          )}
          ${
            this.credential === 'client_secret'
              ? field(
                  'secret_expires_at',
                  'Secret expires (optional)',
                  'The expiry Azure shows for the secret; you are warned 14 days before.',
                  {
                    type: 'date',
                    value: s?.credential_type === 'client_secret' ? s.secret_expires_at?.slice(0, 10) : '',
                  },
                )
              : nothing
          }
          <details>
            <summary>Case defaults</summary>
            <label for="default_priority">Priority</label>
            <select id="default_priority" name="default_priority" aria-describedby="default_priority-help">
              ${[
                [1, 'High'],
                [2, 'Normal'],
                [3, 'Low'],
                [4, '4 — a fourth option your Dynamics defines'],
              ].map(
                ([v, t]) =>
                  html`<option value=${v} ?selected=${(s?.default_priority ?? 2) === v}>${t}</option>`,
              )}
            </select>
            <p class="help" id="default_priority-help">Priority of new cases.</p>
            ${OPTIONAL_IDS.map(([name, label, help]) => field(name, label, help, { value: s?.[name] ?? '' }))}
            <label for="ticket_properties">Ticket properties (JSON)</label>
            <textarea
              id="ticket_properties"
              name="ticket_properties"
              rows="3"
              spellcheck="false"
              aria-describedby="ticket_properties-help${this.problems.ticket_properties ? ' ticket_properties-error' : ''}"
              aria-invalid=${this.problems.ticket_properties ? 'true' : 'false'}
              .value=${s && Object.keys(s.ticket_properties).length ? JSON.stringify(s.ticket_properties, null, 1) : ''}
            ></textarea>
            <p class="help" id="ticket_properties-help">Extra case columns, e.g. {"casetypecode": 1}.</p>
            ${
              this.problems.ticket_properties
                ? html`<p class="field-error" id="ticket_properties-error">
                    ${this.problems.ticket_properties}
                  </p>`
                : nothing
            }
          </details>
          <details ?open=${!!s?.messaging_endpoint}>
            <summary>Advanced: Omnichannel messaging (chats as conversations)</summary>
            ${MESSAGING_FIELDS.map(([name, label, help]) => field(name, label, help, { value: s?.[name] ?? '' }))}
            ${this.renderWebhookHelp(s?.org_id)}
          </details>
          ${this.renderStages()} ${this.readiness ? renderReadiness(this.readiness, 'readiness') : nothing}
          <div role="status" aria-live="polite" data-testid="result">
            ${this.message?.kind === 'success' ? html`<div class="success">${this.message.text}</div>` : nothing}
          </div>
          <div role="alert" data-testid="error">
            ${
              this.message?.kind === 'error'
                ? html`<div class="alert">
                    <strong>${this.message.text}</strong
                    >${this.message.hint ? html`<p>${this.message.hint}</p>` : nothing}
                    ${this.message.reload ? html`<button type="button" @click=${this.reloadAfterConflict}>Reload the connection</button>` : nothing}
                  </div>`
                : nothing
            }
          </div>
          <div class="row end gap-top dialog-footer">
            <button type="button" @click=${this.closeConfigure}>Cancel</button>
            <button type="button" @click=${() => this.verify(false)} ?disabled=${this.busy !== null}>
              ${this.busy === 'test' ? 'Testing…' : 'Test'}
            </button>
            <button
              type="button"
              class="primary"
              @click=${() => this.verify(true)}
              ?disabled=${this.busy !== null}
            >
              ${this.busy === 'save' ? 'Testing and saving…' : 'Test & Save Configuration'}
            </button>
          </div>
        </form>
      </dialog>
    `;
  }

  /**
   * Microsoft's set-up for the webhook that brings the representative's replies back, in the
   * order an admin does it, with this org's webhook URL (docs/handoff.md has the whole guide).
   */
  private renderWebhookHelp(orgId: string | undefined) {
    const origin = new URL(this.apiBase || window.location.href, window.location.href).origin;
    const url = `${origin}/webhooks/dynamics365/messaging/${orgId ?? '<org id>'}`;
    return html`<div class="help" data-testid="webhook-help">
      <p><strong>Agent replies come back through a webhook.</strong> In Dynamics 365 and Entra ID:</p>
      <ol>
        <li>
          On the custom messaging channel record, set the webhook URL to
          <code data-testid="webhook-url">${url}</code> (a public HTTPS address).
        </li>
        <li>
          Create the channel's managed identity record (credential source 2, subject scope 1) and read its
          subject (GetComponentManagedIdentityFIC).
        </li>
        <li>
          On the app registration: Expose an API (the Application ID URI goes in Webhook token audience above)
          and add a federated credential with issuer
          <code>https://login.microsoftonline.com/&lt;tenant&gt;/v2.0</code> and that subject. Changing the
          webhook creates a new credential.
        </li>
      </ol>
      <p>
        Each call must carry a token of your tenant, for that audience, obtained by this app (or the caller ID
        above), valid at most 24 hours; anything else is refused and counted by reason. Replies the webhook
        misses are read back from Microsoft after a few minutes of silence.
      </p>
    </div>`;
  }

  private renderStages(): TemplateResult | typeof nothing {
    if (!this.stages.length) return nothing;
    return html`<ol aria-label="Checks" data-testid="stages">
      ${this.stages.map(
        (line) =>
          html`<li>
            <span class="badge ${line.state === 'ok' ? 'ok' : line.state === 'failed' ? 'rejected' : 'none'}">
              ${line.state === 'ok' ? 'Passed' : line.state === 'failed' ? 'Failed' : 'Not reached'}
            </span>
            ${STAGE_NAMES[line.stage]}
            ${
              line.result && line.state === 'failed'
                ? html`—
                  ${line.result.upstream_code ? html`<code>${line.result.upstream_code}</code>` : html`HTTP ${line.result.upstream_status ?? '—'}`}`
                : nothing
            }
          </li>`,
      )}
    </ol>`;
  }

  /**
   * The certificate part of the form: the one in use, or one generated here with its download and
   * the steps in the Azure portal; its id goes with Test & Save.
   */
  private renderCertificate(s: Status | null): TemplateResult {
    const stored = s?.credential_type === 'certificate' ? s.certificate : null;
    const fresh = this.certificate;
    const error = this.problems.certificate_id;
    return html`<section class="certificate" aria-labelledby="certificate-title" data-testid="certificate">
      <h3 id="certificate-title">Certificate</h3>
      <p class="help" id="certificate_id-help">
        The service makes the key pair and keeps the private key encrypted; you upload only the certificate to
        the app registration. No secret to paste, and its expiry is known.
      </p>
      ${
        stored && !fresh
          ? html`<p>
              In use: thumbprint <code class="thumbprint">${stored.thumbprint}</code>, valid until
              ${stored.not_after.slice(0, 10)}. Leave it to keep it, or generate a new one to rotate.
            </p>`
          : nothing
      }
      ${
        fresh
          ? html`<p data-testid="new-certificate">
                New certificate: thumbprint <code class="thumbprint">${fresh.thumbprint}</code>, valid until
                ${fresh.not_after.slice(0, 10)}.
              </p>
              <p>
                <a href=${fresh.download} download="dynamics365-connector-${fresh.thumbprint.slice(0, 8)}.cer"
                  >Download the certificate (.cer)</a
                >
              </p>
              <ol class="steps">
                <li>
                  Azure portal → App registrations → your app → Certificates &amp; secrets → Certificates →
                  Upload certificate.
                </li>
                <li>
                  Choose the downloaded file and Add: Azure lists it with thumbprint
                  <span class="thumbprint">${fresh.thumbprint}</span>.
                </li>
                <li>Back here: Test &amp; Save. Azure may take a minute to accept a new certificate.</li>
              </ol>`
          : nothing
      }
      <input type="hidden" name="certificate_id" .value=${fresh?.certificate_id ?? ''} />
      <button
        type="button"
        id="generate-certificate"
        aria-describedby="certificate_id-help${error ? ' certificate_id-error' : ''}"
        @click=${this.generate}
        ?disabled=${this.busy !== null}
      >
        ${this.busy === 'generate' ? 'Generating…' : stored || fresh ? 'Generate a new certificate' : 'Generate a certificate'}
      </button>
      ${error ? html`<p class="field-error" id="certificate_id-error">${error}</p>` : nothing}
    </section>`;
  }

  /** A new key pair in the service; the certificate comes back to download and upload. */
  private generate = async () => {
    this.busy = 'generate';
    this.message = null;
    try {
      const created = (
        await this.api.json<Certificate>('POST', '/api/v1/integrations/dynamics365/certificate', {})
      ).body;
      this.forgetCertificate();
      const file = new Blob([created.certificate_pem], { type: 'application/x-x509-ca-cert' });
      this.certificate = { ...created, download: URL.createObjectURL(file) };
      this.problems = { ...this.problems, certificate_id: undefined };
    } catch (error) {
      this.message = { kind: 'error', text: `Could not generate a certificate: ${failureText(error)}` };
    } finally {
      this.busy = null;
    }
  };

  private forgetCertificate(): void {
    if (this.certificate) URL.revokeObjectURL(this.certificate.download);
    this.certificate = null;
  }

  private element(name: Field): HTMLInputElement | null {
    return this.form.elements.namedItem(name) as HTMLInputElement | null;
  }

  /** The field a failure is about: its section opened, scrolled into view, focused. */
  private async showField(field: Field): Promise<void> {
    await this.updateComplete;
    const named = this.element(field);
    // A certificate has no field to type in: its Generate button stands for it.
    const element = named?.type === 'hidden' ? this.generateButton : named;
    if (!element) return;
    const section = element.closest('details');
    if (section) section.open = true;
    element.scrollIntoView({ block: 'center' });
    element.focus();
  }

  private closeConfigure = () => {
    this.clearSecret();
    this.dialog.close();
  };

  /** However the dialog closes (Cancel, Escape — before the browser closes it —, after a save), a typed secret does not stay in the page. */
  private clearSecret = () => {
    const secret = this.element('client_secret');
    if (secret) secret.value = '';
  };

  private restoreFocus = () => {
    this.clearSecret();
    this.opener?.focus();
    this.opener = null;
  };

  private announce(status: Status, notice: string | null): void {
    this.dispatchEvent(
      new CustomEvent<StatusEventDetail>(STATUS_EVENT, {
        detail: { status, notice },
        bubbles: true,
        composed: true,
      }),
    );
  }

  private reloadAfterConflict = async () => {
    try {
      this.status = (await this.api.json<Status>('GET', '/api/v1/integrations/dynamics365')).body;
      this.announce(this.status, null);
      this.message = null;
      await this.updateComplete;
      this.fill();
    } catch (error) {
      this.message = { kind: 'error', text: `Could not reload the connection: ${failureText(error)}` };
    }
  };

  /** The form as stored (the secret field always empty: a stored secret is never shown back). */
  private fill(): void {
    const s = this.status;
    const values: Record<Field, string> = {
      client_id: s?.client_id ?? '',
      client_secret: '',
      certificate_id: this.certificate?.certificate_id ?? '',
      tenant_id: s?.tenant_id ?? '',
      environment_url: s?.environment_url ?? '',
      secret_expires_at:
        s?.credential_type === 'client_secret' ? (s.secret_expires_at?.slice(0, 10) ?? '') : '',
      default_priority: String(s?.default_priority ?? 2),
      default_owner_id: s?.default_owner_id ?? '',
      default_queue_id: s?.default_queue_id ?? '',
      default_workstream_id: s?.default_workstream_id ?? '',
      ticket_properties:
        s && Object.keys(s.ticket_properties).length ? JSON.stringify(s.ticket_properties) : '',
      messaging_endpoint: s?.messaging_endpoint ?? '',
      messaging_channel_id: s?.messaging_channel_id ?? '',
      messaging_organization_id: s?.messaging_organization_id ?? '',
      messaging_scope: s?.messaging_scope ?? '',
      messaging_webhook_audience: s?.messaging_webhook_audience ?? '',
      messaging_webhook_caller_id: s?.messaging_webhook_caller_id ?? '',
    };
    for (const [name, value] of Object.entries(values)) {
      const element = this.element(name as Field);
      if (element) element.value = value;
    }
  }

  /** The form as the API's body, with the checks the server will make again (integration-form.ts). */
  private body(): Record<string, unknown> | null {
    const values = Object.fromEntries(
      FORM_FIELDS.map((name) => [name, this.element(name)?.value ?? '']),
    ) as FormValues;
    const { body, problems } = formBody(values, this.status?.credential_type ?? null, this.credential);
    this.problems = problems;
    return body;
  }

  private verify = async (save: boolean) => {
    this.message = null;
    this.stages = [];
    this.readiness = null;
    const body = this.body();
    if (!body) {
      this.message = { kind: 'error', text: 'Some fields need attention (see below each field).' };
      return;
    }
    const expected: StageResult['stage'][] = [
      'token_exchange',
      'dynamics_probe',
      ...(body.messaging_endpoint ? (['messaging_token'] as const) : []),
    ];
    this.busy = save ? 'save' : 'test';
    try {
      if (save) {
        const headers: Record<string, string> = this.status ? { 'if-match': `"${this.status.version}"` } : {};
        const saved = await this.api.json<Status>('PUT', '/api/v1/integrations/dynamics365', body, headers);
        this.stages = expected.map((stage) => ({ stage, state: 'ok' }));
        this.status = saved.body;
        this.readiness = saved.body.readiness;
        // Done: the modal closes (focus back on Configure) and the card announces the result.
        this.closeConfigure();
        this.forgetCertificate();
        this.message = null;
        this.announce(
          saved.body,
          `Verified with Microsoft and saved. The connection is Active.${readinessSentence(saved.body.readiness)}`,
        );
        this.dispatchEvent(new CustomEvent('dynamics365-changed', { bubbles: true, composed: true }));
      } else {
        const tested = await this.api.json<{ ok: true; stages: StageResult[]; readiness: Readiness | null }>(
          'POST',
          '/api/v1/integrations/dynamics365/test',
          body,
        );
        this.stages = tested.body.stages.map((result) => ({ stage: result.stage, state: 'ok', result }));
        this.readiness = tested.body.readiness;
        this.message = {
          kind: 'success',
          text: `All checks passed. Nothing was saved yet.${readinessSentence(tested.body.readiness)}`,
        };
      }
    } catch (error) {
      this.showError(error as Error, expected, save);
    } finally {
      this.busy = null;
    }
  };

  private showError(error: Error, expected: StageResult['stage'][], save: boolean): void {
    if (!(error instanceof ApiError)) {
      this.message = { kind: 'error', text: failureText(error) };
      return;
    }
    if (error.verification) {
      const failed = error.verification;
      const at = expected.indexOf(failed.stage);
      this.stages = expected.map((stage, i) =>
        i < at
          ? { stage, state: 'ok' }
          : i === at
            ? { stage, state: 'failed', result: failed }
            : { stage, state: 'skipped' },
      );
      // The hint once: under the field it is about (marked, focused, scrolled to), else in the alert.
      const field =
        failed.field && FORM_FIELDS.includes(failed.field as Field) ? (failed.field as Field) : null;
      this.problems = field && failed.hint ? { [field]: failed.hint } : {};
      this.message = {
        kind: 'error',
        text:
          failed.outcome === 'rejected'
            ? `Failed to verify credentials: Microsoft rejected them at “${STAGE_NAMES[failed.stage]}”${failed.upstream_code ? ` (${failed.upstream_code})` : ''}.${save ? ' Nothing was saved.' : ''}${field ? ` See ${FIELD_LABELS[field]}.` : ''}`
            : `Microsoft could not be reached at “${STAGE_NAMES[failed.stage]}”.${save ? ' Nothing was saved.' : ''} Try again shortly.`,
        hint: field ? null : failed.hint,
      };
      if (field) void this.showField(field);
      return;
    }
    if (error.code === 'validation_failed') {
      const problems: Partial<Record<Field, string>> = {};
      for (const detail of error.details) problems[detail.field as Field] = detail.message;
      this.problems = problems;
      this.message = { kind: 'error', text: 'Some fields need attention (see below each field).' };
      return;
    }
    if (error.status === 409) {
      this.message = {
        kind: 'error',
        text: 'Someone else changed this connection since you opened it. Reload it to see their change, then apply yours again.',
        hint: error.message,
        reload: true,
      };
      return;
    }
    if (error.status === 429) {
      this.message = {
        kind: 'error',
        text: 'Too many checks for this organisation in the last minute. Wait a moment and try again.',
      };
      return;
    }
    this.message = { kind: 'error', text: error.message };
  }
}

customElements.define('dynamics365-integration-form', Dynamics365IntegrationForm);

declare global {
  interface HTMLElementTagNameMap {
    'dynamics365-integration-form': Dynamics365IntegrationForm;
  }
}
