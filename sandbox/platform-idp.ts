import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SignJWT } from 'jose';
import type { SigningKey } from './signing.js';

/**
 * The platform's identity provider, for signing admins in to the console (`CONSOLE_OIDC_CLIENT_ID`):
 * not Microsoft — the service verifies the platform's own tokens (`AUTH_JWKS_URL`, `AUTH_ISSUER`),
 * and this stands in for whatever OpenID provider a platform runs (Entra ID, Auth0, Okta, Keycloak).
 * A minimal OpenID Connect provider under `/platform` on the login server: discovery, the
 * authorization endpoint with a sign-in page (pick a user; no passwords), the token endpoint for
 * the authorization code grant with PKCE (S256 only, public clients), and its keys. Everything it
 * does not do is a loud OAuth error (RFC 6749 §4.1.2.1 and §5.2), never a silent default:
 * other response types, response modes, grants, `prompt=none`, `request` objects.
 *
 * Its access tokens carry what the service reads: `sub`, `org_id`, `roles`, `name`, `iat`, `exp`,
 * the issuer and the client's audience.
 */

export interface PlatformUser {
  /** What the sign-in page shows and the `preferred_username` claim. */
  username: string;
  name: string;
  orgId: string;
  roles: string[];
  sub: string;
}

export interface PlatformClient {
  clientId: string;
  redirectUris: string[];
  /** The access token's `aud` (the service's AUTH_AUDIENCE). */
  audience: string;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
  scope: string;
  user: PlatformUser;
  expiresAt: number;
}

const CODE_LIFETIME_MS = 60_000;
const TOKEN_LIFETIME_SECONDS = 3600;
export const PLATFORM_AUDIENCE = 'api://dynamics365-connector';

export class PlatformIdp {
  readonly clients = new Map<string, PlatformClient>();
  readonly users = new Map<string, PlatformUser>();
  private readonly codes = new Map<string, PendingCode>();

  constructor(
    readonly key: SigningKey,
    private readonly baseUrl: () => string,
  ) {}

  get issuer(): string {
    return `${this.baseUrl()}/platform`;
  }

  setClient(input: { clientId: string; redirectUris: string[]; audience?: string }): PlatformClient {
    for (const uri of input.redirectUris) {
      const url = new URL(uri); // throws on a malformed one
      if (url.hash) throw new Error(`redirect URI ${uri} must not have a fragment (RFC 6749 §3.1.2)`);
    }
    const client = {
      clientId: input.clientId,
      redirectUris: input.redirectUris,
      audience: input.audience ?? PLATFORM_AUDIENCE,
    };
    this.clients.set(client.clientId, client);
    return client;
  }

  setUser(input: {
    username: string;
    name: string;
    orgId: string;
    roles: string[];
    sub?: string;
  }): PlatformUser {
    const user = { ...input, sub: input.sub ?? `platform|${input.username}` };
    this.users.set(user.username, user);
    return user;
  }

  issueCode(pending: Omit<PendingCode, 'expiresAt'>): string {
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, { ...pending, expiresAt: Date.now() + CODE_LIFETIME_MS });
    return code;
  }

  /** A code is used once: taken here whatever happens next (RFC 6749 §4.1.2). */
  takeCode(code: string): PendingCode | undefined {
    const pending = this.codes.get(code);
    this.codes.delete(code);
    return pending && pending.expiresAt > Date.now() ? pending : undefined;
  }

  async tokens(pending: PendingCode, client: PlatformClient) {
    const now = Math.floor(Date.now() / 1000);
    const { user } = pending;
    const header = { typ: 'JWT', alg: 'RS256', kid: this.key.kid };
    const accessToken = await new SignJWT({
      org_id: user.orgId,
      roles: user.roles,
      name: user.name,
      scope: pending.scope,
    })
      .setProtectedHeader({ ...header, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(client.audience)
      .setSubject(user.sub)
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
      .setJti(randomUUID())
      .sign(this.key.privateKey);
    const idToken = await new SignJWT({
      name: user.name,
      preferred_username: user.username,
      org_id: user.orgId,
      ...(pending.nonce !== undefined ? { nonce: pending.nonce } : {}),
    })
      .setProtectedHeader(header)
      .setIssuer(this.issuer)
      .setAudience(client.clientId)
      .setSubject(user.sub)
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
      .sign(this.key.privateKey);
    return {
      access_token: accessToken,
      id_token: idToken,
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_SECONDS,
      scope: pending.scope,
    };
  }
}

/** An authorization request's parameters that were checked and may be redirected to. */
interface AuthorizeRequest {
  client: PlatformClient;
  redirectUri: string;
  state: string | undefined;
  scope: string;
  nonce: string | undefined;
  codeChallenge: string;
}

type Checked = { ok: AuthorizeRequest } | { page: string } | { redirect: string };

export function registerPlatformIdp(app: FastifyInstance, idp: PlatformIdp): void {
  const cors = (request: FastifyRequest, reply: FastifyReply) => {
    // Discovery and keys are public; the token endpoint answers the origins of the client's
    // registered redirect URIs (as Entra does for single-page applications).
    const origin = request.headers.origin;
    if (origin) void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
  };

  app.get('/platform/.well-known/openid-configuration', async (request, reply) => {
    cors(request, reply);
    const issuer = idp.issuer;
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/keys`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['none'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'profile'],
      claims_supported: ['sub', 'name', 'preferred_username', 'org_id', 'roles', 'nonce'],
      authorization_response_iss_parameter_supported: true,
    };
  });

  app.get('/platform/keys', async (request, reply) => {
    cors(request, reply);
    return { keys: [{ ...idp.key.publicJwk, alg: 'RS256' }] };
  });

  const check = (params: Record<string, string | undefined>): Checked => {
    const client = params.client_id ? idp.clients.get(params.client_id) : undefined;
    // An unknown client or redirect URI is told to the user, never redirected to (RFC 6749 §4.1.2.1).
    if (!client) return { page: `Unknown client_id ${JSON.stringify(params.client_id ?? '')}.` };
    const redirectUri = params.redirect_uri ?? '';
    if (!client.redirectUris.includes(redirectUri)) {
      return {
        page: `The redirect_uri ${JSON.stringify(redirectUri)} is not registered for ${client.clientId} (registered: ${client.redirectUris.join(', ') || 'none'}).`,
      };
    }
    const fail = (error: string, description: string): Checked => {
      const url = new URL(redirectUri);
      url.searchParams.set('error', error);
      url.searchParams.set('error_description', description);
      if (params.state !== undefined) url.searchParams.set('state', params.state);
      url.searchParams.set('iss', idp.issuer);
      return { redirect: url.href };
    };
    if (params.request !== undefined || params.request_uri !== undefined) {
      return fail('request_not_supported', 'Request objects are not supported by this provider.');
    }
    if (params.response_type !== 'code') {
      return fail(
        'unsupported_response_type',
        `response_type must be "code", not ${JSON.stringify(params.response_type ?? '')}.`,
      );
    }
    if (params.response_mode !== undefined && params.response_mode !== 'query') {
      return fail(
        'invalid_request',
        `response_mode ${JSON.stringify(params.response_mode)} is not supported; use query.`,
      );
    }
    const scope = params.scope ?? '';
    if (!scope.split(' ').includes('openid')) return fail('invalid_scope', 'The scope must include openid.');
    const unknown = scope
      .split(' ')
      .filter((s) => s && !['openid', 'profile', 'email', 'offline_access'].includes(s));
    if (unknown.length) return fail('invalid_scope', `Unknown scope: ${unknown.join(' ')}.`);
    if (!params.code_challenge)
      return fail('invalid_request', 'PKCE is required: send code_challenge (S256).');
    if (params.code_challenge_method !== 'S256') {
      return fail('invalid_request', 'code_challenge_method must be S256.');
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge)) {
      return fail('invalid_request', 'code_challenge is not a base64url SHA-256 digest.');
    }
    if (params.prompt === 'none')
      return fail('login_required', 'The user must sign in (prompt=none is not supported).');
    return {
      ok: {
        client,
        redirectUri,
        state: params.state,
        scope,
        nonce: params.nonce,
        codeChallenge: params.code_challenge,
      },
    };
  };

  const answer = (reply: FastifyReply, checked: Exclude<Checked, { ok: AuthorizeRequest }>) =>
    'page' in checked
      ? reply
          .status(400)
          .type('text/html; charset=utf-8')
          .send(page('Sign-in failed', `<p role="alert">${escapeHtml(checked.page)}</p>`))
      : reply.redirect(checked.redirect, 302);

  app.get('/platform/authorize', async (request, reply) => {
    const params = request.query as Record<string, string | undefined>;
    const checked = check(params);
    if (!('ok' in checked)) return answer(reply, checked);
    const hidden = Object.entries(params)
      .filter(([name, value]) => value !== undefined && name !== 'username')
      .map(
        ([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value!)}">`,
      )
      .join('');
    const users = [...idp.users.values()];
    const buttons = users.length
      ? users
          .map(
            (user) =>
              `<button name="username" value="${escapeHtml(user.username)}">${escapeHtml(user.name)} <small>(${escapeHtml(user.username)} · org ${escapeHtml(user.orgId)} · ${escapeHtml(user.roles.join(', ') || 'no roles')})</small></button>`,
          )
          .join('')
      : '<p>No users: add one with PUT /_sandbox/platform/users/{username}.</p>';
    return reply
      .type('text/html; charset=utf-8')
      .send(
        page(
          'Sign in',
          `<p>${escapeHtml(checked.ok.client.clientId)} asks you to sign in. Pick a user:</p>` +
            `<form method="post" action="authorize">${hidden}${buttons}</form>`,
        ),
      );
  });

  app.post('/platform/authorize', async (request, reply) => {
    const params = (request.body ?? {}) as Record<string, string | undefined>;
    const checked = check(params);
    if (!('ok' in checked)) return answer(reply, checked);
    const user = params.username ? idp.users.get(params.username) : undefined;
    if (!user) return answer(reply, { page: `Unknown user ${JSON.stringify(params.username ?? '')}.` });
    const { ok } = checked;
    const code = idp.issueCode({
      clientId: ok.client.clientId,
      redirectUri: ok.redirectUri,
      codeChallenge: ok.codeChallenge,
      nonce: ok.nonce,
      scope: ok.scope,
      user,
    });
    const url = new URL(ok.redirectUri);
    url.searchParams.set('code', code);
    if (ok.state !== undefined) url.searchParams.set('state', ok.state);
    url.searchParams.set('iss', idp.issuer);
    return reply.redirect(url.href, 303);
  });

  app.options('/platform/token', async (request, reply) => {
    cors(request, reply);
    return reply
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', 'content-type, accept')
      .status(204)
      .send();
  });

  app.post('/platform/token', async (request, reply) => {
    cors(request, reply);
    const form = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<
      string,
      string
    >;
    const error = (status: number, code: string, description: string) =>
      reply
        .status(status)
        .header('cache-control', 'no-store')
        .send({ error: code, error_description: description });
    if (!request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      return error(400, 'invalid_request', 'Send the request as application/x-www-form-urlencoded.');
    }
    if (request.headers.authorization) {
      return error(401, 'invalid_client', 'This client is public: it authenticates with no secret.');
    }
    if (form.grant_type !== 'authorization_code') {
      return error(
        400,
        'unsupported_grant_type',
        `grant_type ${JSON.stringify(form.grant_type ?? '')} is not supported.`,
      );
    }
    const client = form.client_id ? idp.clients.get(form.client_id) : undefined;
    if (!client)
      return error(401, 'invalid_client', `Unknown client_id ${JSON.stringify(form.client_id ?? '')}.`);
    const pending = form.code ? idp.takeCode(form.code) : undefined;
    if (!pending || pending.clientId !== client.clientId) {
      return error(
        400,
        'invalid_grant',
        'The authorization code is unknown, used, expired or for another client.',
      );
    }
    if (form.redirect_uri !== pending.redirectUri) {
      return error(400, 'invalid_grant', 'redirect_uri does not match the authorization request.');
    }
    if (!form.code_verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(form.code_verifier)) {
      return error(400, 'invalid_request', 'code_verifier is missing or malformed (RFC 7636 §4.1).');
    }
    const challenge = createHash('sha256').update(form.code_verifier).digest('base64url');
    if (challenge !== pending.codeChallenge) {
      return error(
        400,
        'invalid_grant',
        'PKCE verification failed: code_verifier does not match code_challenge.',
      );
    }
    return reply.header('cache-control', 'no-store').send(await idp.tokens(pending, client));
  });
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Platform identity (sandbox)</title><style>body{font:15px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{display:block;width:100%;text-align:left;margin:.5rem 0;padding:.75rem;font:inherit;cursor:pointer}small{color:#555}</style></head><body><h1>${title}</h1>${body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
