import type { FastifyInstance, FastifyReply } from 'fastify';
import { isEntitySet } from './entities.js';
import { representativeActivity } from './messaging-webhook.js';
import {
  AppCertificate,
  Fault,
  isGuid,
  NotFound,
  SandboxSettings,
  ServiceProtectionLimits,
} from './model.js';
import type { Sandbox } from './sandbox.js';

/**
 * The control API, under `/_sandbox/` on the login server (a path Microsoft never serves):
 * set up tenants, apps, secrets, environments and application users; break them; inject faults;
 * read the request log. Tests can use the same operations in-process through `sandbox.model`.
 */
export function registerControl(app: FastifyInstance, sandbox: Sandbox): void {
  const { model } = sandbox;
  const body = (request: { body: unknown }) => (request.body ?? {}) as Record<string, unknown>;

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply: FastifyReply) => {
    const status = error instanceof NotFound ? 404 : (error.statusCode ?? 400);
    return reply.status(status).send({ error: error.message });
  });

  app.get('/_sandbox/state', async () => ({
    login_url: sandbox.loginUrl,
    settings: model.settings,
    token_fault: model.tokenFault ?? null,
    assertion_reuses: model.assertionReuses,
    tenants: [...model.tenants.values()].map((t) => ({
      id: t.id,
      name: t.name,
      domains: t.domains,
      apps: [...t.apps.values()].map((a) => ({
        client_id: a.clientId,
        name: a.name,
        object_id: a.objectId,
        disabled: a.disabled,
        secrets: a.secrets.map((s) => ({
          id: s.id,
          hint: s.hint,
          expires_at: s.expiresAt,
          revoked: s.revoked,
        })),
        certificates: a.certificates.map(certificateSummary),
      })),
    })),
    environments: [...model.environments.values()].map((e) => ({
      name: e.name,
      origin: e.origin,
      tenant_id: e.tenantId,
      fault: e.fault ?? null,
      limits: e.limits,
      creates: e.creates,
      // What a handoff creates, newest last: the latest cases, contacts, notes and queue items.
      records: Object.fromEntries(
        (['incidents', 'contacts', 'annotations', 'queueitems'] as const).map((set) => [
          set,
          { count: e.records[set].size, latest: [...e.records[set].values()].slice(-5).map(summary) },
        ]),
      ),
      custom_columns: e.customColumns,
      messaging: e.messaging
        ? {
            origin: e.messaging.origin,
            organization_id: e.organizationId,
            scope: `${e.messagingResource}/.default`,
            channels: [...e.messaging.channels.values()],
            conversations: [...e.messaging.conversations.values()].slice(-5),
          }
        : null,
      users: [...e.users.values()].map((u) => ({
        client_id: u.clientId,
        system_user_id: u.systemUserId,
        disabled: u.disabled,
        privileges: u.privileges === 'all' ? 'all' : [...u.privileges],
      })),
    })),
  }));

  // The platform's OpenID provider (console sign-in): its clients and users.
  app.put('/_sandbox/platform/clients/:clientId', async (request) => {
    const { clientId } = request.params as { clientId: string };
    const input = body(request);
    const uris = input.redirect_uris;
    if (!Array.isArray(uris) || uris.some((u) => typeof u !== 'string')) {
      throw Object.assign(new Error('redirect_uris must be an array of URLs'), { statusCode: 400 });
    }
    const client = sandbox.platformIdp.setClient({
      clientId,
      redirectUris: uris as string[],
      ...(typeof input.audience === 'string' ? { audience: input.audience } : {}),
    });
    return { client_id: client.clientId, redirect_uris: client.redirectUris, audience: client.audience };
  });

  app.put('/_sandbox/platform/users/:username', async (request) => {
    const { username } = request.params as { username: string };
    const input = body(request);
    if (typeof input.name !== 'string' || typeof input.org_id !== 'string') {
      throw Object.assign(new Error('name and org_id are required strings'), { statusCode: 400 });
    }
    const roles = input.roles ?? [];
    if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string')) {
      throw Object.assign(new Error('roles must be an array of strings'), { statusCode: 400 });
    }
    const user = sandbox.platformIdp.setUser({
      username,
      name: input.name,
      orgId: input.org_id,
      roles: roles as string[],
    });
    return { username: user.username, sub: user.sub, name: user.name, org_id: user.orgId, roles: user.roles };
  });

  app.put('/_sandbox/settings', async (request) => {
    model.settings = { ...model.settings, ...(body(request) as Partial<SandboxSettings>) };
    return model.settings;
  });

  app.post('/_sandbox/tenants', async (request, reply) => {
    const { id, name, domains } = body(request) as { id?: string; name?: string; domains?: string[] };
    const tenant = model.createTenant({ id, name, domains });
    return reply.status(201).send({ id: tenant.id, name: tenant.name, domains: tenant.domains });
  });

  app.post('/_sandbox/tenants/:tenant/apps', async (request, reply) => {
    const { tenant } = request.params as { tenant: string };
    const { client_id, name, disabled } = body(request) as {
      client_id?: string;
      name?: string;
      disabled?: boolean;
    };
    const created = model.createApp(tenant, { clientId: client_id, name, disabled });
    return reply
      .status(201)
      .send({ client_id: created.clientId, name: created.name, object_id: created.objectId });
  });

  app.patch('/_sandbox/tenants/:tenant/apps/:clientId', async (request) => {
    const { tenant, clientId } = request.params as { tenant: string; clientId: string };
    const registration = model.app(tenant, clientId);
    const { disabled } = body(request) as { disabled?: boolean };
    if (disabled !== undefined) registration.disabled = disabled;
    return { client_id: registration.clientId, disabled: registration.disabled };
  });

  app.post('/_sandbox/tenants/:tenant/apps/:clientId/secrets', async (request, reply) => {
    const { tenant, clientId } = request.params as { tenant: string; clientId: string };
    const { value, id, expires_at } = body(request) as { value?: string; id?: string; expires_at?: string };
    const secret = model.addSecret(tenant, clientId, { value, id, expiresAt: expires_at });
    return reply
      .status(201)
      .send({ id: secret.id, value: secret.value, hint: secret.hint, expires_at: secret.expiresAt });
  });

  // Certificates & secrets → Upload certificate: the public certificate (PEM), validity from it
  // (`end_date` overrides it: a sandbox-only way to simulate an expired certificate).
  app.post('/_sandbox/tenants/:tenant/apps/:clientId/certificates', async (request, reply) => {
    const { tenant, clientId } = request.params as { tenant: string; clientId: string };
    // `certificate_pem` too: the service's own certificate document can be posted as it is.
    const input = body(request) as {
      certificate?: string;
      certificate_pem?: string;
      key_id?: string;
      end_date?: string;
    };
    const pem = input.certificate ?? input.certificate_pem;
    if (typeof pem !== 'string') {
      throw Object.assign(new Error('certificate (PEM) is required'), { statusCode: 400 });
    }
    let certificate;
    try {
      certificate = model.addCertificate(tenant, clientId, {
        certificate: pem,
        keyId: input.key_id,
        endDate: input.end_date,
      });
    } catch (error) {
      if (error instanceof NotFound) throw error;
      throw Object.assign(new Error(`not a usable certificate: ${(error as Error).message}`), {
        statusCode: 400,
      });
    }
    return reply.status(201).send(certificateSummary(certificate));
  });

  app.delete('/_sandbox/tenants/:tenant/apps/:clientId/certificates/:keyId', async (request, reply) => {
    const { tenant, clientId, keyId } = request.params as { tenant: string; clientId: string; keyId: string };
    model.removeCertificate(tenant, clientId, keyId);
    return reply.status(204).send();
  });

  app.delete('/_sandbox/tenants/:tenant/apps/:clientId/secrets/:secretId', async (request, reply) => {
    const { tenant, clientId, secretId } = request.params as {
      tenant: string;
      clientId: string;
      secretId: string;
    };
    model.revokeSecret(tenant, clientId, secretId);
    return reply.status(204).send();
  });

  app.post('/_sandbox/environments', async (request, reply) => {
    const { name, tenant_id, port, limits } = body(request) as {
      name: string;
      tenant_id: string;
      port?: number;
      limits?: Partial<ServiceProtectionLimits>;
    };
    if (!name || !tenant_id) return reply.status(400).send({ error: 'name and tenant_id are required' });
    const environment = await sandbox.addEnvironment({ name, tenantId: tenant_id, port, limits });
    return reply
      .status(201)
      .send({ name: environment.name, origin: environment.origin, tenant_id: environment.tenantId });
  });

  app.put('/_sandbox/environments/:name/limits', async (request) => {
    const environment = model.environment((request.params as { name: string }).name);
    environment.limits = { ...environment.limits, ...(body(request) as Partial<ServiceProtectionLimits>) };
    environment.usage.clear();
    return environment.limits;
  });

  /** Records created per entity set (POST, upsert or AddToQueue), to check that nothing was created twice. */
  app.get('/_sandbox/environments/:name/creates', async (request) => {
    return model.environment((request.params as { name: string }).name).creates;
  });

  /** A publisher-prefixed custom column on a table of the environment: `{name, type, max_length}`. */
  app.post('/_sandbox/environments/:name/columns/:set', async (request, reply) => {
    const { name, set } = request.params as { name: string; set: string };
    const {
      name: column,
      type,
      max_length,
    } = body(request) as {
      name?: string;
      type?: string;
      max_length?: number;
    };
    if (!isEntitySet(set)) return reply.status(400).send({ error: `unknown entity set ${set}` });
    if (!column || !/^[a-z0-9]+_[a-z0-9_]+$/.test(column)) {
      return reply
        .status(400)
        .send({ error: 'name must be a publisher-prefixed logical name like new_sessionid' });
    }
    if (type !== 'string' && type !== 'integer')
      return reply.status(400).send({ error: 'type must be string or integer' });
    model.addCustomColumn(
      name,
      set,
      column,
      type === 'string' ? { type, maxLength: max_length ?? 100 } : { type },
    );
    return reply.status(201).send({ set, name: column, type });
  });

  app.get('/_sandbox/environments/:name/usage', async (request) => {
    const environment = model.environment((request.params as { name: string }).name);
    return Object.fromEntries(
      [...environment.usage.entries()].map(([clientId, u]) => [
        clientId,
        {
          requests_in_window: u.arrivals.length,
          in_flight: u.inFlight,
          peak_in_flight: u.peakInFlight,
          throttled: u.throttled,
          execution_ms: u.executions.reduce((s, [, ms]) => s + ms, 0),
        },
      ]),
    );
  });

  app.post('/_sandbox/environments/:name/users', async (request, reply) => {
    const { name } = request.params as { name: string };
    const { client_id, privileges, disabled } = body(request) as {
      client_id: string;
      privileges?: string[] | 'all';
      disabled?: boolean;
    };
    const user = model.addApplicationUser(name, { clientId: client_id, privileges, disabled });
    return reply.status(201).send({ client_id: user.clientId, system_user_id: user.systemUserId });
  });

  app.patch('/_sandbox/environments/:name/users/:clientId', async (request) => {
    const { name, clientId } = request.params as { name: string; clientId: string };
    const user = model.applicationUser(name, clientId);
    const { disabled, privileges } = body(request) as { disabled?: boolean; privileges?: string[] | 'all' };
    if (disabled !== undefined) user.disabled = disabled;
    if (privileges !== undefined) user.privileges = privileges === 'all' ? 'all' : new Set(privileges);
    return { client_id: user.clientId, disabled: user.disabled };
  });

  app.delete('/_sandbox/environments/:name/users/:clientId', async (request, reply) => {
    const { name, clientId } = request.params as { name: string; clientId: string };
    model.removeApplicationUser(name, clientId);
    return reply.status(204).send();
  });

  app.post('/_sandbox/environments/:name/records/:set', async (request, reply) => {
    const { name, set } = request.params as { name: string; set: string };
    const environment = model.environment(name);
    if (!isEntitySet(set)) return reply.status(400).send({ error: `unknown entity set ${set}` });
    const { id, ...attributes } = body(request) as { id?: string } & Record<string, unknown>;
    const recordId = (id ?? crypto.randomUUID()).toLowerCase();
    environment.records[set].set(recordId, {
      id: recordId,
      version: 1,
      attributes,
    });
    return reply.status(201).send({ id: recordId });
  });

  app.get('/_sandbox/environments/:name/records/:set', async (request, reply) => {
    const { name, set } = request.params as { name: string; set: string };
    const environment = model.environment(name);
    if (!isEntitySet(set)) return reply.status(400).send({ error: `unknown entity set ${set}` });
    return [...environment.records[set].values()];
  });

  app.put('/_sandbox/latency', async (request) => {
    const { token_ms, environments } = body(request) as {
      token_ms?: number;
      environments?: Record<string, number>;
    };
    if (token_ms !== undefined) model.tokenLatencyMs = token_ms;
    for (const [name, ms] of Object.entries(environments ?? {})) model.environment(name).latencyMs = ms;
    return {
      token_ms: model.tokenLatencyMs,
      environments: Object.fromEntries([...model.environments.values()].map((e) => [e.name, e.latencyMs])),
    };
  });

  app.put('/_sandbox/faults/token', async (request) => {
    model.tokenFault = parseFault(body(request));
    return model.tokenFault;
  });
  app.delete('/_sandbox/faults/token', async (_request, reply) => {
    model.tokenFault = undefined;
    return reply.status(204).send();
  });
  app.put('/_sandbox/environments/:name/fault', async (request) => {
    const environment = model.environment((request.params as { name: string }).name);
    environment.fault = parseFault(body(request));
    return environment.fault;
  });
  app.delete('/_sandbox/environments/:name/fault', async (request, reply) => {
    model.environment((request.params as { name: string }).name).fault = undefined;
    return reply.status(204).send();
  });

  // The Omnichannel Messaging API of an environment: channels (the admin's msdyn_occustommessagingchannel
  // records), conversations, and the representative's side of a conversation.
  app.get('/_sandbox/environments/:name/messaging', async (request) => {
    const environment = model.environment((request.params as { name: string }).name);
    const messaging = environment.messaging!;
    return {
      origin: messaging.origin,
      organization_id: environment.organizationId,
      scope: `${environment.messagingResource}/.default`,
      created: messaging.created,
      channels: [...messaging.channels.values()],
      conversations: [...messaging.conversations.values()],
    };
  });
  app.put('/_sandbox/environments/:name/messaging/channels/:id', async (request) => {
    const { name, id } = request.params as { name: string; id: string };
    const messaging = model.environment(name).messaging!;
    const input = body(request);
    if (!isGuid(id)) throw new Error('channel id must be a GUID');
    if (typeof input.app_id !== 'string' || !isGuid(input.app_id)) throw new Error('app_id must be a GUID');
    if (
      input.webhook_url !== undefined &&
      input.webhook_url !== null &&
      typeof input.webhook_url !== 'string'
    )
      throw new Error('webhook_url must be a URL or null');
    if (input.webhook_audience !== undefined && typeof input.webhook_audience !== 'string')
      throw new Error('webhook_audience must be the Application ID URI (a string)');
    if (input.webhook_token_version !== undefined && ![1, 2].includes(input.webhook_token_version as number))
      throw new Error('webhook_token_version must be 1 or 2');
    const channel = {
      id: id.toLowerCase(),
      appId: input.app_id.toLowerCase(),
      webhookUrl: input.webhook_url ?? null,
      workstreamLinked: input.workstream_linked !== false,
      ...(input.webhook_audience !== undefined ? { webhookAudience: input.webhook_audience } : {}),
      ...(input.webhook_token_version !== undefined
        ? { webhookTokenVersion: input.webhook_token_version as 1 | 2 }
        : {}),
    };
    messaging.channels.set(channel.id, channel);
    return channel;
  });
  app.post('/_sandbox/environments/:name/messaging/conversations/:id/activities', async (request) => {
    const { name, id } = request.params as { name: string; id: string };
    const input = body(request);
    if (!['message', 'typing', 'event'].includes(input.type as string))
      throw new Error('type must be message, typing or event');
    return representativeActivity(model, sandbox.key, model.environment(name), id, {
      type: input.type as 'message' | 'typing' | 'event',
      text: typeof input.text === 'string' ? input.text : undefined,
      name: typeof input.name === 'string' ? input.name : undefined,
      from: typeof input.from === 'string' ? input.from : undefined,
    });
  });
  // Preview behaviour (the June 2025 header and token names) and the webhook's per-attempt timeout.
  app.put('/_sandbox/environments/:name/messaging/behaviour', async (request) => {
    const messaging = model.environment((request.params as { name: string }).name).messaging!;
    const input = body(request);
    if (input.preview !== undefined && typeof input.preview !== 'boolean')
      throw new Error('preview must be true or false');
    const timeout = input.webhook_timeout_ms;
    if (
      timeout !== undefined &&
      (!Number.isInteger(timeout) || (timeout as number) < 1 || (timeout as number) > 60_000)
    )
      throw new Error('webhook_timeout_ms must be an integer of 1…60000');
    if (input.preview !== undefined) messaging.preview = input.preview;
    if (timeout !== undefined) messaging.webhookTimeoutMs = timeout as number;
    return { preview: messaging.preview ?? false, webhook_timeout_ms: messaging.webhookTimeoutMs ?? 10_000 };
  });
  // The webhook's next deliveries: answered too late (Microsoft retries) or down for all three attempts.
  app.put('/_sandbox/environments/:name/messaging/webhook-fault', async (request) => {
    const messaging = model.environment((request.params as { name: string }).name).messaging!;
    const input = body(request);
    if (input.kind !== 'late_answer' && input.kind !== 'down')
      throw new Error('kind must be late_answer or down');
    if (input.count !== undefined && (!Number.isInteger(input.count) || (input.count as number) < 1))
      throw new Error('count must be a positive integer');
    messaging.webhookFault = { kind: input.kind, ...(input.count ? { count: input.count as number } : {}) };
    return messaging.webhookFault;
  });
  app.delete('/_sandbox/environments/:name/messaging/webhook-fault', async (request, reply) => {
    model.environment((request.params as { name: string }).name).messaging!.webhookFault = undefined;
    return reply.status(204).send();
  });
  app.put('/_sandbox/environments/:name/messaging/fault', async (request) => {
    const environment = model.environment((request.params as { name: string }).name);
    environment.messagingFault = parseFault(body(request));
    return environment.messagingFault;
  });
  app.delete('/_sandbox/environments/:name/messaging/fault', async (request, reply) => {
    model.environment((request.params as { name: string }).name).messagingFault = undefined;
    return reply.status(204).send();
  });

  // A webhook catcher for the demo's alert webhook (its origin goes in NOTIFICATION_ALLOWED_ORIGINS).
  const hooks: { seq: number; at: string; name: string; headers: Record<string, unknown>; body: unknown }[] =
    [];
  app.post('/_sandbox/hooks/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    hooks.push({
      seq: hooks.length + 1,
      at: new Date().toISOString(),
      name,
      headers: request.headers,
      body: request.body,
    });
    return reply.status(204).send();
  });
  app.get('/_sandbox/hooks', async () => hooks);
  // The mail catcher: what the SMTP server received (SMTP_URL = sandbox.mail.url).
  app.get('/_sandbox/mail', async (request) => {
    const { since } = request.query as { since?: string };
    return {
      smtp_url: sandbox.mail.url,
      mail: sandbox.mail.mail.filter((m) => !since || m.seq > Number(since)),
    };
  });
  app.delete('/_sandbox/mail', async (_request, reply) => {
    sandbox.mail.mail.length = 0;
    return reply.status(204).send();
  });
  app.get('/_sandbox/requests', async (request) => {
    const { server, origin, since } = request.query as { server?: string; origin?: string; since?: string };
    return model.requests.filter(
      (r) =>
        (!server || r.server === server) &&
        (!origin || r.origin === origin) &&
        (!since || r.seq > Number(since)),
    );
  });
  app.delete('/_sandbox/requests', async (_request, reply) => {
    model.requests.length = 0;
    return reply.status(204).send();
  });
}

/** A record for the state document: its id and its columns, long text cut to 200 characters. */
function summary(record: { id: string; attributes: Record<string, unknown> }): Record<string, unknown> {
  return {
    id: record.id,
    ...Object.fromEntries(
      Object.entries(record.attributes).map(([k, v]) => [
        k,
        typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}… (${v.length} characters)` : v,
      ]),
    ),
  };
}

/** A fault from the control API, checked so a typo fails loudly instead of injecting nothing. */
function parseFault(input: Record<string, unknown>): Fault {
  const allowed = [
    'status',
    'retryAfter',
    'code',
    'message',
    'latencyMs',
    'hang',
    'reset',
    'resetAfterProcessing',
    'count',
    'method',
    'path',
  ];
  const unknown = Object.keys(input).filter((k) => !allowed.includes(k));
  if (unknown.length)
    throw new Error(`unknown fault fields: ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`);
  const numbers = ['status', 'retryAfter', 'latencyMs', 'count'] as const;
  for (const name of numbers) {
    if (input[name] !== undefined && (typeof input[name] !== 'number' || !Number.isInteger(input[name]))) {
      throw new Error(`${name} must be an integer`);
    }
  }
  for (const name of ['hang', 'reset', 'resetAfterProcessing'] as const) {
    if (input[name] !== undefined && typeof input[name] !== 'boolean')
      throw new Error(`${name} must be a boolean`);
  }
  for (const name of ['code', 'message', 'method', 'path'] as const) {
    if (input[name] !== undefined && typeof input[name] !== 'string')
      throw new Error(`${name} must be a string`);
  }
  return input;
}

function certificateSummary(c: AppCertificate) {
  return {
    key_id: c.keyId,
    thumbprint: c.thumbprint,
    start_date: c.startDate,
    end_date: c.endDate,
  };
}
