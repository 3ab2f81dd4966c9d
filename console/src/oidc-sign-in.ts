// Console sign-in with OpenID Connect at the platform's identity provider (CONSOLE_OIDC_CLIENT_ID):
// the authorization code flow with PKCE for a public client, through oauth4webapi (discovery,
// the authorization response's state and issuer, the token response and its ID token's nonce,
// audience and issuer are all checked there). The pending request (verifier, state, nonce) waits
// in sessionStorage for the way back; the code is removed from the address bar before it is used.
import * as oauth from 'oauth4webapi';
import type { Schemas } from './api.js';

export type OidcOptions = NonNullable<Schemas['SignInOptionsDto']['oidc']>;

const PENDING_KEY = 'dynamics365-console-oidc-pending';

interface Pending {
  issuer: string;
  clientId: string;
  redirectUri: string;
  verifier: string;
  state: string;
  nonce: string;
}

/** The answer of a sign-in, or why it failed in words an admin can act on. */
export type SignInResult = { accessToken: string } | { error: string };

/** The console's own address, without query or fragment: the redirect URI registered at the provider. */
export function redirectUriOf(location: { origin: string; pathname: string }): string {
  return location.origin + location.pathname;
}

/** Whether this address is the provider sending the browser back (a code or an error, with state). */
export function isCallback(url: URL): boolean {
  return url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error'));
}

// The service requires https for the provider in production; http is a development provider
// (the sandbox's), which oauth4webapi refuses unless told.
const insecure = (issuer: URL) => ({ [oauth.allowInsecureRequests]: issuer.protocol === 'http:' });

async function discover(issuer: URL): Promise<oauth.AuthorizationServer> {
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure(issuer) });
  return oauth.processDiscoveryResponse(issuer, response);
}

/** Where to send the browser to sign in; the pending request is stored for the way back. */
export async function signInUrl(
  options: OidcOptions,
  redirectUri: string,
  storage: Storage,
): Promise<string> {
  const issuer = new URL(options.issuer);
  const server = await discover(issuer);
  if (!server.authorization_endpoint) throw new Error(`${issuer.host} names no authorization endpoint.`);
  const pending: Pending = {
    issuer: options.issuer,
    clientId: options.client_id,
    redirectUri,
    verifier: oauth.generateRandomCodeVerifier(),
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
  };
  const url = new URL(server.authorization_endpoint);
  url.searchParams.set('client_id', options.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', options.scope);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(pending.verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', pending.state);
  url.searchParams.set('nonce', pending.nonce);
  storage.setItem(PENDING_KEY, JSON.stringify(pending));
  return url.href;
}

/** Exchanges the code the provider sent back for the access token the API accepts, once. */
export async function completeSignIn(
  options: OidcOptions,
  callback: URL,
  storage: Storage,
): Promise<SignInResult> {
  const stored = storage.getItem(PENDING_KEY);
  storage.removeItem(PENDING_KEY); // one attempt per sign-in, whatever happens
  const pending = stored ? (JSON.parse(stored) as Pending) : null;
  if (!pending || pending.issuer !== options.issuer || pending.clientId !== options.client_id) {
    return { error: 'That sign-in was not started here, or was already used. Sign in again.' };
  }
  const issuer = new URL(options.issuer);
  const client: oauth.Client = { client_id: options.client_id };
  try {
    const server = await discover(issuer);
    const parameters = oauth.validateAuthResponse(server, client, callback.searchParams, pending.state);
    const response = await oauth.authorizationCodeGrantRequest(
      server,
      client,
      oauth.None(),
      parameters,
      pending.redirectUri,
      pending.verifier,
      insecure(issuer),
    );
    const tokens = await oauth.processAuthorizationCodeResponse(server, client, response, {
      expectedNonce: pending.nonce,
      requireIdToken: true,
    });
    return { accessToken: tokens.access_token };
  } catch (error) {
    return { error: describe(error, issuer.host) };
  }
}

/** The provider's own error code and words where it gave them; ours where a check failed. */
function describe(error: unknown, host: string): string {
  if (error instanceof oauth.AuthorizationResponseError || error instanceof oauth.ResponseBodyError) {
    const said = error.error_description ? `: ${error.error_description}` : '';
    return `${host} did not sign you in (${error.error})${said}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `Sign-in at ${host} failed: ${message}`;
}
