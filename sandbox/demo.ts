import type { Sandbox } from './server.js';

/**
 * A ready demo tenant for `npm run sandbox`: one working app registration and a few broken ones,
 * with fixed identifiers so the README's commands work as printed.
 */
export const DEMO = {
  tenantId: '7b1c3f9e-2d4a-4c8b-9e6f-0a1b2c3d4e5f',
  tenantDomain: 'contosodemo.onmicrosoft.com',
  environment: 'contoso',
  apps: {
    working: {
      clientId: '11111111-1111-4111-8111-111111111111',
      secretId: 'a1a1a1a1-0000-4000-8000-000000000001',
      secret: 'Wk8Q~demo-working-secret-value-0123456789',
    },
    expired: {
      clientId: '22222222-2222-4222-8222-222222222222',
      secretId: 'a2a2a2a2-0000-4000-8000-000000000002',
      secret: 'Ex8Q~demo-expired-secret-value-012345678',
    },
    noUser: {
      clientId: '33333333-3333-4333-8333-333333333333',
      secretId: 'a3a3a3a3-0000-4000-8000-000000000003',
      secret: 'Nu8Q~demo-no-app-user-secret-value-0123',
    },
    noPrivilege: {
      clientId: '44444444-4444-4444-8444-444444444444',
      secretId: 'a4a4a4a4-0000-4000-8000-000000000004',
      secret: 'Np8Q~demo-no-privilege-secret-value-012',
    },
    disabledUser: {
      clientId: '55555555-5555-4555-8555-555555555555',
      secretId: 'a5a5a5a5-0000-4000-8000-000000000005',
      secret: 'Du8Q~demo-disabled-user-secret-value-01',
    },
    // Pass Test & Save, but are not ready for handoffs (readiness says why).
    readOnly: {
      clientId: '66666666-6666-4666-8666-666666666666',
      secretId: 'a6a6a6a6-0000-4000-8000-000000000006',
      secret: 'Ro8Q~demo-read-only-role-secret-value-0',
    },
    userDepthContacts: {
      clientId: '77777777-7777-4777-8777-777777777777',
      secretId: 'a7a7a7a7-0000-4000-8000-000000000007',
      secret: 'Ud8Q~demo-user-depth-contacts-secret-01',
    },
    noQueuePrivilege: {
      clientId: '88888888-8888-4888-8888-888888888888',
      secretId: 'a8a8a8a8-0000-4000-8000-000000000008',
      secret: 'Nq8Q~demo-no-queue-privilege-secret-012',
    },
  },
  /**
   * An app registration for certificate credentials: no secret, an application user with every
   * privilege; its certificate is the one the service makes, uploaded through the control API (the
   * Azure portal's Upload certificate). Not uploaded: AADSTS700027; uploaded with an `end_date`
   * in the past: AADSTS7000274.
   */
  certificateApp: { clientId: '99999999-9999-4999-8999-999999999999' },
  /** A user of the environment who is disabled: as default_owner_id, the "Disabled default owner" case. */
  disabledOwnerId: 'c0c0c0c0-0000-4000-8000-00000000000d',
  ownerId: 'c0c0c0c0-0000-4000-8000-00000000000a',
  queueId: 'c0c0c0c0-0000-4000-8000-00000000000b',
  /** The demo's custom messaging channel (msdyn_occustommessagingchannel), linked to a workstream. */
  messagingChannelId: 'c0c0c0c0-0000-4000-8000-00000000000c',
  /** The org the printed commands use; the channel's webhook points at the service's URL for it. */
  org: 'demo',
  /** The console's client at the platform's OpenID provider (CONSOLE_OIDC_CLIENT_ID). */
  consoleClientId: 'dynamics365-console',
} as const;

export interface DemoCase {
  label: string;
  client_id: string;
  client_secret: string;
  tenant_id: string;
  environment_url: string;
  /** Defaults saved with the credentials (the queue or owner the case is about). */
  settings?: Record<string, string>;
  expect: string;
}

/** What a handoff needs (DESIGN §11), and Read on User to read the app user's own privileges. */
export const HANDOFF_ROLE = [
  'prvReadUser',
  'prvReadContact',
  'prvCreateContact',
  'prvAppendToContact',
  'prvCreateIncident',
  'prvReadIncident',
  'prvAppendIncident',
  'prvAppendToIncident',
  'prvAssignIncident',
  'prvCreateNote',
  'prvReadNote',
  'prvAppendNote',
  'prvReadQueue',
  'prvAppendToQueue',
  'prvCreateQueueItem',
  'prvWriteQueueItem',
  'prvReadQueueItem',
];

export async function seedDemo(
  sandbox: Sandbox,
  environmentPort = 0,
  options: { messagingPort?: number; serviceUrl?: string } = {},
): Promise<DemoCase[]> {
  const { model } = sandbox;
  const serviceUrl = options.serviceUrl ?? 'http://127.0.0.1:3000';
  const tenant = model.createTenant({
    id: DEMO.tenantId,
    name: 'Contoso Demo',
    domains: [DEMO.tenantDomain],
  });
  const environment = await sandbox.addEnvironment({
    name: DEMO.environment,
    tenantId: tenant.id,
    port: environmentPort,
    messagingPort: options.messagingPort ?? 0,
  });
  const year = 365 * 24 * 3600 * 1000;

  const add = (key: keyof typeof DEMO.apps, name: string, expiresAt: Date) => {
    const spec = DEMO.apps[key];
    model.createApp(tenant.id, { clientId: spec.clientId, name });
    model.addSecret(tenant.id, spec.clientId, { id: spec.secretId, value: spec.secret, expiresAt });
    return spec;
  };
  const working = add('working', 'OpenCX Dynamics Integration', new Date(Date.now() + 2 * year));
  const expired = add('expired', 'Expired secret app', new Date(Date.now() - 24 * 3600 * 1000));
  const noUser = add('noUser', 'No application user app', new Date(Date.now() + year));
  const noPrivilege = add('noPrivilege', 'Role without privileges app', new Date(Date.now() + year));
  const disabledUser = add('disabledUser', 'Disabled application user app', new Date(Date.now() + year));
  const readOnly = add('readOnly', 'Read-only role app', new Date(Date.now() + year));
  const userDepth = add('userDepthContacts', 'User-depth contacts app', new Date(Date.now() + year));
  const noQueue = add('noQueuePrivilege', 'No queue privilege app', new Date(Date.now() + year));
  model.createApp(tenant.id, { clientId: DEMO.certificateApp.clientId, name: 'Certificate app' });
  model.addApplicationUser(DEMO.environment, { clientId: DEMO.certificateApp.clientId, privileges: 'all' });

  model.addApplicationUser(DEMO.environment, { clientId: working.clientId, privileges: 'all' });
  model.addApplicationUser(DEMO.environment, { clientId: expired.clientId, privileges: 'all' });
  model.addApplicationUser(DEMO.environment, {
    clientId: noPrivilege.clientId,
    privileges: ['prvReadContact', 'prvReadQueue', 'prvReadSystemUser'],
  });
  model.addApplicationUser(DEMO.environment, {
    clientId: disabledUser.clientId,
    privileges: 'all',
    disabled: true,
  });
  model.addApplicationUser(DEMO.environment, {
    clientId: readOnly.clientId,
    privileges: HANDOFF_ROLE.filter((p) => p.startsWith('prvRead')),
  });
  model.addApplicationUser(DEMO.environment, {
    clientId: userDepth.clientId,
    privileges: [...HANDOFF_ROLE],
    depths: { prvReadContact: 'Basic' },
  });
  model.addApplicationUser(DEMO.environment, {
    clientId: noQueue.clientId,
    privileges: HANDOFF_ROLE.filter((p) => p !== 'prvAppendToQueue' && p !== 'prvCreateQueueItem'),
  });
  environment.records.systemusers.set(DEMO.disabledOwnerId, {
    id: DEMO.disabledOwnerId,
    version: 1,
    attributes: {
      fullname: 'Former Agent',
      internalemailaddress: 'former@contosodemo.example',
      isdisabled: true,
    },
  });

  environment.records.systemusers.set(DEMO.ownerId, {
    id: DEMO.ownerId,
    version: 1,
    attributes: {
      fullname: 'Dana Support',
      internalemailaddress: 'dana@contosodemo.example',
      isdisabled: false,
    },
  });
  environment.messaging!.channels.set(DEMO.messagingChannelId, {
    id: DEMO.messagingChannelId,
    appId: working.clientId,
    webhookUrl: `${serviceUrl}/webhooks/dynamics365/messaging/${DEMO.org}`,
    workstreamLinked: true,
  });
  environment.records.queues.set(DEMO.queueId, {
    id: DEMO.queueId,
    version: 1,
    attributes: { name: 'Tier 1 Support', queuetypecode: 1 },
  });

  // The platform's own sign-in for the console: an admin and a member of the demo org.
  sandbox.platformIdp.setClient({ clientId: DEMO.consoleClientId, redirectUris: [`${serviceUrl}/console/`] });
  sandbox.platformIdp.setUser({
    username: 'admin@demo.example',
    name: 'Demo Admin',
    orgId: DEMO.org,
    roles: ['admin'],
  });
  sandbox.platformIdp.setUser({
    username: 'member@demo.example',
    name: 'Demo Member',
    orgId: DEMO.org,
    roles: [],
  });

  const base = { tenant_id: tenant.id, environment_url: environment.origin };
  return [
    {
      label: 'Working app registration',
      client_id: working.clientId,
      client_secret: working.secret,
      ...base,
      expect: 'Test & Save succeeds',
    },
    {
      label: 'Wrong secret (the Secret ID pasted instead of its Value)',
      client_id: working.clientId,
      client_secret: working.secretId,
      ...base,
      expect: 'token exchange rejected: AADSTS7000215',
    },
    {
      label: 'Expired secret',
      client_id: expired.clientId,
      client_secret: expired.secret,
      ...base,
      expect: 'token exchange rejected: AADSTS7000222',
    },
    {
      label: 'No application user in the environment',
      client_id: noUser.clientId,
      client_secret: noUser.secret,
      ...base,
      expect: 'Dynamics probe rejected: 403 0x80072560',
    },
    {
      label: 'Security role without the Case (incident) privileges',
      client_id: noPrivilege.clientId,
      client_secret: noPrivilege.secret,
      ...base,
      expect: 'Dynamics probe rejected: 403 0x80040220 prvReadIncident',
    },
    {
      label: 'Disabled application user',
      client_id: disabledUser.clientId,
      client_secret: disabledUser.secret,
      ...base,
      expect: 'Dynamics probe rejected: 403 0x80040225',
    },
    {
      label: 'Read-only role',
      client_id: readOnly.clientId,
      client_secret: readOnly.secret,
      ...base,
      expect:
        'Test & Save succeeds; not ready: create and append privileges missing (prvCreateIncident, prvCreateContact, …)',
    },
    {
      label: 'User-depth contacts',
      client_id: userDepth.clientId,
      client_secret: userDepth.secret,
      ...base,
      expect:
        'Test & Save succeeds; not ready: Read on Contact at User depth (contact lookups miss others’ contacts)',
    },
    {
      label: 'No queue privilege (with the demo queue as default_queue_id)',
      client_id: noQueue.clientId,
      client_secret: noQueue.secret,
      ...base,
      settings: { default_queue_id: DEMO.queueId },
      expect: 'Test & Save succeeds; not ready: prvAppendToQueue, prvCreateQueueItem missing',
    },
    {
      label: 'Disabled default owner (the working app, default_owner_id a disabled user)',
      client_id: working.clientId,
      client_secret: working.secret,
      ...base,
      settings: { default_owner_id: DEMO.disabledOwnerId },
      expect: 'Test & Save succeeds; not ready: the default owner is disabled',
    },
  ];
}
