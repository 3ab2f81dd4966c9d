import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isGuid, SandboxModel, Tenant } from './model.js';
import type { SigningKey } from './signing.js';
import { applyFault } from './faults.js';
import { checkClientAssertion } from './client-assertion.js';

/**
 * Entra ID's token endpoint for the client credentials grant, as Microsoft documents it and its recorded answers show: the same
 * statuses, `error`/`error_codes`, AADSTS texts, `error_description` trailer and headers.
 */

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';
const RESERVED_TENANTS = ['common', 'organizations', 'consumers'];

interface TokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
}

interface OAuthError {
  status: number;
  error: string;
  code: number;
  message: string;
}

export function registerEntra(
  app: FastifyInstance,
  model: SandboxModel,
  key: SigningKey,
  loginUrl: () => string,
): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post('/:tenant/oauth2/v2.0/token', async (request, reply) => {
    const { tenant: tenantParam } = request.params as { tenant: string };
    const form = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<
      string,
      string
    >;
    const query = request.query as Record<string, string>;
    const correlationId = form['client-request-id'] ?? query['client-request-id'] ?? randomUUID();
    const traceId = randomUUID();
    const logged = model.log({
      server: 'login',
      origin: loginUrl(),
      method: request.method,
      path: request.url.split('?')[0],
      query,
      headers: headersOf(request),
      form,
      tenant: tenantParam,
      clientId: form.client_id,
    });
    const started = performance.now();
    reply.raw.once('finish', () => {
      logged.status = reply.statusCode;
      logged.durationMs = Math.round((performance.now() - started) * 100) / 100;
    });
    setCommonHeaders(reply, traceId);
    if (model.tokenLatencyMs > 0) await new Promise((resolve) => setTimeout(resolve, model.tokenLatencyMs));

    const fault = SandboxModel.takeFault(model, 'tokenFault');
    if (fault) {
      const handled = await applyFault(fault, request, reply);
      if (handled === 'connection-closed') return reply;
      if (fault.status) {
        if (fault.retryAfter !== undefined) void reply.header('retry-after', String(fault.retryAfter));
        if (fault.status === 429 && model.settings.throttleBody === 'text' && !fault.code) {
          return reply.status(429).type('text/plain; charset=utf-8').send('Too Many Requests');
        }
        const transient: OAuthError = {
          status: fault.status,
          error: fault.code ?? (fault.status === 429 ? 'temporarily_unavailable' : 'temporarily_unavailable'),
          code: fault.status === 429 ? 90055 : 50033,
          message:
            fault.message ??
            (fault.status === 429
              ? 'The request is throttled temporarily. Please try after the time specified in Retry-After.'
              : 'A transient error has occurred. Please try again.'),
        };
        return sendError(reply, transient, traceId, correlationId, loginUrl());
      }
    }

    const outcome = await issue(model, key, tenantParam, form, publicOrigin(request, loginUrl()));
    if ('error' in outcome) return sendError(reply, outcome, traceId, correlationId, loginUrl());
    return reply.status(200).send(outcome);
  });

  const keys = async () => ({ keys: [key.publicJwk] });
  app.get('/common/discovery/v2.0/keys', keys);
  app.get('/common/discovery/keys', keys);
  app.get('/:tenant/discovery/v2.0/keys', keys);
  app.get('/:tenant/v2.0/.well-known/openid-configuration', async (request, reply) => {
    const { tenant: identifier } = request.params as { tenant: string };
    const tenant = model.findTenant(identifier);
    const traceId = randomUUID();
    const logged = model.log({
      server: 'login',
      origin: loginUrl(),
      method: request.method,
      path: request.url.split('?')[0],
      query: request.query as Record<string, string>,
      headers: headersOf(request),
      tenant: identifier,
    });
    reply.raw.once('finish', () => (logged.status = reply.statusCode));
    setCommonHeaders(reply, traceId);
    if (!tenant) {
      return sendError(
        reply,
        tenantNotFound(identifier, 'invalid_tenant'),
        traceId,
        randomUUID(),
        loginUrl(),
      );
    }
    // Built from the address the client used (Host, and X-Forwarded-Proto behind a TLS front),
    // as Entra's own document names its own host: MSAL checks the issuer against its authority.
    const origin = publicOrigin(request, loginUrl());
    const base = `${origin}/${tenant.id}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      issuer: `${origin}/${tenant.id}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      id_token_signing_alg_values_supported: ['RS256'],
      tenant_region_scope: 'NA',
    };
  });
}

async function issue(
  model: SandboxModel,
  key: SigningKey,
  tenantParam: string,
  form: Record<string, string>,
  origin: string,
): Promise<OAuthError | TokenResponse> {
  const identifier = tenantParam.toLowerCase();
  if (RESERVED_TENANTS.includes(identifier)) {
    return {
      status: 400,
      error: 'invalid_request',
      code: 50059,
      message:
        'No tenant-identifying information found in either the request or implied by any provided credentials.',
    };
  }
  if (identifier === EMPTY_GUID) {
    return {
      status: 400,
      error: 'invalid_request',
      code: 90002,
      message: `Requested tenant identifier '${EMPTY_GUID}' is not valid. Tenant identifiers may not be an empty GUID.`,
    };
  }
  if (!isGuid(identifier) && !DNS_NAME.test(identifier)) {
    return {
      status: 400,
      error: 'invalid_request',
      code: 900023,
      message: `Specified tenant identifier '${tenantParam}' is neither a valid DNS name, nor a valid external domain.`,
    };
  }
  // Parameter checks run before the tenant lookup (a recording shows 7000216 for tenant "undefined").
  for (const name of ['grant_type', 'client_id', 'scope']) {
    if (!form[name]) return missingParameter(name);
  }
  if (form.grant_type !== 'client_credentials') {
    return {
      status: 400,
      error: 'unsupported_grant_type',
      code: 70003,
      message: 'The app requested an unsupported grant type.',
    };
  }
  if (!form.client_secret && !form.client_assertion) {
    return {
      status: 401,
      error: 'invalid_client',
      code: 7000216,
      message:
        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
    };
  }
  const tenant = model.findTenant(identifier);
  if (!tenant) return tenantNotFound(tenantParam, 'invalid_request');

  const scope = form.scope.trim();
  if (/\s/.test(scope)) {
    return {
      status: 400,
      error: 'invalid_scope',
      code: 700022,
      message:
        'The provided value for the input parameter scope is not valid because it contains more than one resource. Scope ' +
        `${scope} is not valid.`,
    };
  }
  if (!scope.endsWith('/.default')) {
    return {
      status: 400,
      error: 'invalid_scope',
      code: 1002012,
      message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    };
  }

  const app = tenant.apps.get(form.client_id.toLowerCase());
  if (!app) {
    return {
      status: model.settings.appNotFoundStatus,
      error: 'unauthorized_client',
      code: 700016,
      message: `Application with identifier '${form.client_id}' was not found in the directory '${tenant.name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    };
  }
  if (app.disabled) {
    return {
      status: model.settings.appDisabledStatus,
      error: 'unauthorized_client',
      code: 7000112,
      message: `Application '${app.clientId}'(${app.name}) is disabled.`,
    };
  }
  if (form.client_assertion) {
    // The assertion's audience: this token endpoint, by the tenant as the request named it or by
    // its id — at the address it was reached at, or as login.microsoftonline.com, which the
    // sandbox stands in for (MSAL run offline signs for its own authority).
    const tokenUrls = [origin, 'https://login.microsoftonline.com'].flatMap((host) =>
      [tenantParam, tenant.id, ...tenant.domains].map((t) => `${host}/${t}/oauth2/v2.0/token`),
    );
    const refused = await checkClientAssertion(model, app, form, tokenUrls);
    if (refused) return refused;
  } else {
    const now = Date.now();
    const matching = app.secrets.filter((s) => s.value === form.client_secret && !s.revoked);
    if (!matching.some((s) => s.expiresAt.getTime() > now)) {
      if (matching.length > 0) {
        return {
          status: model.settings.expiredSecretStatus,
          error: 'invalid_client',
          code: 7000222,
          message: `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
        };
      }
      return {
        status: 401,
        error: 'invalid_client',
        code: 7000215,
        message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      };
    }
  }

  const resource = scope.slice(0, -'/.default'.length);
  const environment = model.environmentByResource(resource);
  const knownHere = environment && environment.tenantId === tenant.id;
  if (!knownHere && model.settings.unknownResource === 'invalid_resource') {
    return resourceNotFound(resource, tenant);
  }
  const { token, expiresIn } = await key.accessToken({
    tenantId: tenant.id,
    clientId: app.clientId,
    objectId: app.objectId,
    resource: resource.replace(/\/+$/, ''),
    lifetimeSeconds: model.settings.tokenLifetimeSeconds,
    // appidacr: 1 a client secret, 2 a certificate.
    authentication: form.client_assertion ? 'certificate' : 'secret',
  });
  return { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token };
}

function missingParameter(name: string): OAuthError {
  return {
    status: 400,
    error: 'invalid_request',
    code: 900144,
    message: `The request body must contain the following parameter: '${name}'.`,
  };
}

function tenantNotFound(identifier: string, error: string): OAuthError {
  return {
    status: 400,
    error,
    code: 90002,
    message: `Tenant '${identifier}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  };
}

function resourceNotFound(resource: string, tenant: Tenant): OAuthError {
  return {
    status: 400,
    error: 'invalid_resource',
    code: 500011,
    message: `The resource principal named ${resource} was not found in the tenant named ${tenant.name}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  };
}

/** `2024-02-28 10:59:21Z`: space, no `T`, no milliseconds. */
function entraTimestamp(date = new Date()): string {
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

function sendError(
  reply: FastifyReply,
  e: OAuthError,
  traceId: string,
  correlationId: string,
  loginUrl: string,
) {
  const timestamp = entraTimestamp();
  return reply.status(e.status).send({
    error: e.error,
    error_description: `AADSTS${e.code}: ${e.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [e.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${loginUrl}/error?code=${e.code}`,
  });
}

function setCommonHeaders(reply: FastifyReply, traceId: string): void {
  void reply.headers({
    'cache-control': 'no-store, no-cache',
    pragma: 'no-cache',
    'content-type': 'application/json; charset=utf-8',
    expires: '-1',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    p3p: 'CP="DSP CUR OTPi IND OTRi ONL FIN"',
    'x-ms-request-id': traceId,
    'x-ms-ests-server': '2.1.19999.9 - SANDBOX ProdSlices',
    'x-ms-clitelem': '1,0,0,,',
    'set-cookie': [
      'fpc=sandbox; expires=Sat, 26-Dec-2026 00:00:00 GMT; path=/; secure; HttpOnly; SameSite=None',
      'x-ms-gateway-slice=estsfd; path=/; secure; samesite=none; httponly',
      'stsservicecookie=estsfd; path=/; secure; samesite=none; httponly',
    ],
  });
}

/** `proto://host` as the client addressed the server (`X-Forwarded-Proto` when a front terminated TLS). */
function publicOrigin(request: FastifyRequest, fallback: string): string {
  const host = request.headers.host;
  if (!host) return fallback;
  const forwarded = request.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0].trim() || 'http';
  return `${proto}://${host}`;
}

export function headersOf(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
