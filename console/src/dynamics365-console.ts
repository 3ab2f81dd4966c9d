import { css, html, LitElement, nothing, TemplateResult } from 'lit';
import { query, queryAll } from 'lit/decorators.js';
import { Api, ApiError, UNAUTHORIZED_EVENT } from './api.js';
import { base } from './styles.js';
import './dynamics365-audit-log.js';
import { NAVIGATE_EVENT } from './dynamics365-handoffs.js';
import './dynamics365-notifications.js';
import './dynamics365-integration.js';
import { completeSignIn, isCallback, OidcOptions, redirectUriOf, signInUrl } from './oidc-sign-in.js';

const STORAGE_KEY = 'dynamics365-console-token';
type View = 'integration' | 'audit' | 'handoffs' | 'notifications';

interface Me {
  sub: string;
  org_id: string;
  roles: string[];
  name: string | null;
}

/**
 * `<dynamics365-console>`: the page at /console — sign-in (at the platform's identity provider with
 * OpenID Connect when the service names one; a one-time code from the URL fragment `#code=…`,
 * removed from the address bar at once and exchanged for the token; or a token pasted; the token is
 * kept in sessionStorage, never in a URL), who is signed in, and the four views.
 */
export class Dynamics365Console extends LitElement {
  static styles = [
    base,
    css`
      :host {
        max-width: 72rem;
        margin: 0 auto;
        padding: 0.5rem;
      }
    `,
  ];
  static properties = {
    token: { state: true },
    me: { state: true },
    view: { state: true },
    signInError: { state: true },
    oidc: { state: true },
    signingIn: { state: true },
  };

  declare token: string | null;
  declare me: Me | null;
  declare view: View;
  declare signInError: string | null;
  /** The identity provider to sign in at; null: none configured; undefined: not known yet. */
  declare oidc: OidcOptions | null | undefined;
  declare signingIn: boolean;

  @query('#token') private tokenInput!: HTMLTextAreaElement;
  @queryAll('[role="tab"]') private tabs!: NodeListOf<HTMLButtonElement>;

  constructor() {
    super();
    this.view = 'integration';
    this.me = null;
    this.signInError = null;
    // A one-time sign-in code (never the token itself) may come in the fragment: it is removed from
    // the address bar at once and exchanged for the token (connectedCallback).
    this.code = new URLSearchParams(window.location.hash.slice(1)).get('code');
    if (this.code) history.replaceState(null, '', window.location.pathname + window.location.search);
    // The identity provider sends the browser back with ?code=…&state=…: removed from the address
    // bar (and so from the history) before the code is exchanged (connectedCallback).
    const here = new URL(window.location.href);
    this.callback = isCallback(here) ? here : null;
    if (this.callback) history.replaceState(null, '', window.location.pathname + window.location.hash);
    this.signingIn = this.callback !== null;
    this.token = sessionStorage.getItem(STORAGE_KEY);
    this.addEventListener(NAVIGATE_EVENT, (event) => {
      this.view = (event as CustomEvent<{ view: View }>).detail.view;
    });
    this.addEventListener(UNAUTHORIZED_EVENT, () =>
      this.signOut(
        this.oidc
          ? 'Your session has ended. Sign in again.'
          : 'Your token was not accepted or has expired. Paste a new one.',
      ),
    );
  }

  private code: string | null;
  private callback: URL | null;

  connectedCallback(): void {
    super.connectedCallback();
    const options = this.loadSignInOptions();
    if (this.callback) void options.then((oidc) => this.completeOidc(oidc));
    else if (this.code) void this.redeem(this.code);
    else if (this.token) void this.identify();
  }

  private async loadSignInOptions(): Promise<OidcOptions | null> {
    try {
      const response = await fetch('/api/v1/console/sign-in-options', {
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.oidc = ((await response.json()) as { oidc: OidcOptions | null }).oidc;
    } catch {
      this.oidc = null; // paste a token still works
    }
    return this.oidc;
  }

  /** Sends the browser to the identity provider's sign-in page. */
  private startOidc = async () => {
    if (!this.oidc) return;
    this.signingIn = true;
    this.signInError = null;
    try {
      window.location.assign(await signInUrl(this.oidc, redirectUriOf(window.location), sessionStorage));
    } catch (error) {
      this.signingIn = false;
      this.signInError = `Could not reach ${new URL(this.oidc.issuer).host} to sign in: ${(error as Error).message}`;
    }
  };

  /** Back from the identity provider: the code for the access token, kept like a pasted one. */
  private async completeOidc(oidc: OidcOptions | null): Promise<void> {
    const callback = this.callback!;
    this.callback = null;
    if (!oidc) {
      this.signingIn = false;
      this.signInError =
        'This service does not sign in at an identity provider (CONSOLE_OIDC_CLIENT_ID is not set).';
      return;
    }
    const result = await completeSignIn(oidc, callback, sessionStorage);
    this.signingIn = false;
    if ('error' in result) {
      this.signOut(result.error);
      return;
    }
    sessionStorage.setItem(STORAGE_KEY, result.accessToken);
    this.token = result.accessToken;
    await this.identify();
  }

  /** Exchanges the one-time code for the token, kept in sessionStorage (never in a URL). */
  private async redeem(code: string): Promise<void> {
    this.code = null;
    try {
      const response = await fetch('/api/v1/console/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const { token } = (await response.json()) as { token: string };
      sessionStorage.setItem(STORAGE_KEY, token);
      this.token = token;
      await this.identify();
    } catch {
      this.signOut('That sign-in link was already used or has expired. Ask for a new one, or paste a token.');
    }
  }

  private provider = () => this.token ?? '';

  private async identify(): Promise<void> {
    try {
      this.me = (await new Api(this.provider, '', this).json<Me>('GET', '/api/v1/me')).body;
      this.signInError = null;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) this.signInError = (error as Error).message;
    }
  }

  private signOut(message: string | null = null): void {
    sessionStorage.removeItem(STORAGE_KEY);
    this.token = null;
    this.me = null;
    this.signInError = message;
  }

  private signIn = (event: Event) => {
    event.preventDefault();
    const value = this.tokenInput.value.trim().replace(/^Bearer\s+/i, '');
    if (!value) {
      this.signInError = 'Paste an API token first.';
      return;
    }
    sessionStorage.setItem(STORAGE_KEY, value);
    this.token = value;
    void this.identify();
  };

  render(): TemplateResult {
    return html`
      <header class="row between gap-bottom">
        <h1 class="title" part="title">
          <svg class="product-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <rect x="2" y="2" width="20" height="20" rx="5" fill="currentColor" opacity="0.12" />
            <circle cx="8" cy="12" r="3.2" fill="none" stroke="currentColor" stroke-width="1.8" />
            <circle cx="16" cy="12" r="3.2" fill="none" stroke="currentColor" stroke-width="1.8" />
            <path d="M11.2 12h1.6" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
          </svg>
          Integrations
        </h1>
        ${
          this.me
            ? html`<div class="row">
                <span data-testid="signed-in"
                  >Signed in as <strong>${this.me.name ?? this.me.sub}</strong> (${this.me.org_id})</span
                >
                <button @click=${() => this.signOut()}>Sign out</button>
              </div>`
            : nothing
        }
      </header>
      ${this.token && this.me ? this.renderViews() : this.renderSignIn()}
    `;
  }

  private renderSignIn(): TemplateResult {
    const alert = html`<div role="alert">
      ${this.signInError ? html`<p class="alert">${this.signInError}</p>` : nothing}
    </div>`;
    if (this.signingIn) {
      return html`<section aria-label="Sign in" class="narrow">
        <h2>Sign in</h2>
        <p role="status">Signing you in…</p>
      </section>`;
    }
    if (this.oidc) {
      return html`<section aria-label="Sign in" class="narrow">
        <h2>Sign in</h2>
        <p>Sign in with your organisation account at <strong>${new URL(this.oidc.issuer).host}</strong>.</p>
        ${alert}
        <button class="primary" @click=${this.startOidc}>Sign in with your organisation account</button>
        <details class="gap-top">
          <summary>Use an API token instead</summary>
          ${this.renderTokenForm(false)}
        </details>
      </section>`;
    }
    return html`
      <section aria-label="Sign in" class="narrow">
        <h2>Sign in</h2>
        ${this.renderTokenForm(true)}
      </section>
    `;
  }

  private renderTokenForm(withAlert: boolean): TemplateResult {
    return html`
      <form @submit=${this.signIn}>
        <label for="token">API token</label>
        <textarea
          id="token"
          rows="4"
          spellcheck="false"
          autocomplete="off"
          aria-describedby="token-help"
        ></textarea>
        <p class="help" id="token-help">
          An admin token of your organisation (in development: <code>npm run token -- --console</code>).
        </p>
        ${
          withAlert
            ? html`<div role="alert">
                ${this.signInError ? html`<p class="alert">${this.signInError}</p>` : nothing}
              </div>`
            : nothing
        }
        <button class=${withAlert ? 'primary' : ''} type="submit">
          ${withAlert ? 'Sign in' : 'Sign in with the token'}
        </button>
      </form>
    `;
  }

  private renderViews(): TemplateResult {
    // Tabs that are tabs (WAI-ARIA tabs): one tab stop, arrow keys move between them and select.
    const tab = (view: View, label: string) =>
      html`<button
        role="tab"
        id="tab-${view}"
        part="tab"
        aria-selected=${this.view === view ? 'true' : 'false'}
        aria-controls="view"
        tabindex=${this.view === view ? '0' : '-1'}
        @click=${() => (this.view = view)}
      >
        ${label}
      </button>`;
    return html`
      <div role="tablist" aria-label="Console" class="tabs gap-bottom" @keydown=${this.moveTab}>
        ${tab('integration', 'Dynamics 365')} ${tab('audit', 'Audit log')} ${tab('handoffs', 'Handoffs')}
        ${tab('notifications', 'Notifications')}
      </div>
      <main id="view" role="tabpanel" aria-labelledby="tab-${this.view}">
        ${
          this.view === 'integration'
            ? html`<dynamics365-integration .tokenProvider=${this.provider}></dynamics365-integration>`
            : this.view === 'audit'
              ? html`<dynamics365-audit-log .tokenProvider=${this.provider}></dynamics365-audit-log>`
              : this.view === 'handoffs'
                ? html`<dynamics365-handoffs .tokenProvider=${this.provider}></dynamics365-handoffs>`
                : html`<dynamics365-notifications
                    .tokenProvider=${this.provider}
                  ></dynamics365-notifications>`
        }
      </main>
    `;
  }

  private moveTab = async (event: KeyboardEvent) => {
    const views: View[] = ['integration', 'audit', 'handoffs', 'notifications'];
    const at = views.indexOf(this.view);
    const next =
      event.key === 'ArrowRight'
        ? views[(at + 1) % views.length]
        : event.key === 'ArrowLeft'
          ? views[(at + views.length - 1) % views.length]
          : event.key === 'Home'
            ? views[0]
            : event.key === 'End'
              ? views[views.length - 1]
              : null;
    if (!next) return;
    event.preventDefault();
    this.view = next;
    await this.updateComplete;
    [...this.tabs].find((tab) => tab.id === `tab-${next}`)?.focus();
  };
}

customElements.define('dynamics365-console', Dynamics365Console);

declare global {
  interface HTMLElementTagNameMap {
    'dynamics365-console': Dynamics365Console;
  }
}
