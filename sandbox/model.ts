import { createHash, KeyObject, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { ENTITY_SETS, type Column, type EntitySetName } from './entities.js';

export type { EntitySetName } from './entities.js';

/**
 * The simulated Microsoft cloud's state: tenants with app registrations and their secrets,
 * Dataverse environments with application users and records, injected faults, and a log of
 * every request received. Plain data, no I/O; the HTTP layers read and change it.
 */

export interface Secret {
  id: string;
  value: string;
  hint: string;
  expiresAt: Date;
  revoked: boolean;
}

export interface AppRegistration {
  clientId: string;
  name: string;
  /** Object id of the app's service principal in its tenant (the token's `oid`). */
  objectId: string;
  disabled: boolean;
  secrets: Secret[];
  /** Certificates uploaded under Certificates & secrets (their public keys only, as in Azure). */
  certificates: AppCertificate[];
}

/** An uploaded certificate (a keyCredential): Entra keeps its DER, thumbprints and validity. */
export interface AppCertificate {
  keyId: string;
  der: Buffer;
  /** SHA-1 thumbprint, upper-case hex: what the portal shows as the certificate's Thumbprint. */
  thumbprint: string;
  /** SHA-256 thumbprint, base64url: what an assertion's `x5t#S256` names. */
  thumbprintSha256: string;
  startDate: Date;
  endDate: Date;
  publicKey: KeyObject;
}

export interface Tenant {
  id: string;
  name: string;
  domains: string[];
  apps: Map<string, AppRegistration>;
}

export interface ApplicationUser {
  clientId: string;
  /** The app's service principal object id (Entra fills it in on the application user). */
  objectId: string;
  systemUserId: string;
  disabled: boolean;
  /** Privilege names like `prvReadIncident`; `all` for System Administrator. */
  privileges: Set<string> | 'all';
  /**
   * The depth each held privilege has (Dataverse's PrivilegeDepth); Global when not listed. A
   * Read at Basic (user) depth sees only the records the application user owns.
   */
  depths: Record<string, PrivilegeDepth>;
  roleCount: number;
}

export type PrivilegeDepth = 'Basic' | 'Local' | 'Deep' | 'Global';

export interface Fault {
  /** HTTP status to answer with instead of the real answer (omit for latency/hang/reset only). */
  status?: number;
  retryAfter?: number;
  /** Body error code (Dataverse hex code, or the OAuth `error` for the token endpoint). */
  code?: string;
  message?: string;
  latencyMs?: number;
  /** Never answer (the client's timeout must fire). */
  hang?: boolean;
  /** Destroy the connection without an answer (nothing is processed). */
  reset?: boolean;
  /**
   * Process the request (a create is made), then destroy the connection instead of answering:
   * the case an exactly-once client must survive.
   */
  resetAfterProcessing?: boolean;
  /** Apply to this many requests, then clear; unlimited when omitted. */
  count?: number;
  /** Only requests with this method (e.g. `PATCH`); every method when omitted. */
  method?: string;
  /** Only requests whose path (after `/api/data/v9.2`) starts with this, e.g. `/incidents(`. */
  path?: string;
}

export interface MessagingChannel {
  id: string;
  /** The Entra app allowed to call the API for this channel (msdyn_appid). */
  appId: string;
  /** Where representatives' activities go (msdyn_webhookurl); none: they are only stored. */
  webhookUrl: string | null;
  /** A channel must be added to a messaging workstream before conversations can start (30014). */
  workstreamLinked: boolean;
  /**
   * The Application ID URI the admin exposed on the app ("Expose an API"): the audience of the
   * webhook's v1 tokens (v2 tokens carry the app's client id). Default `api://<app id>`.
   */
  webhookAudience?: string;
  /** Which token version the platform sends to the webhook (not documented: both are simulated). Default 2. */
  webhookTokenVersion?: 1 | 2;
}

/**
 * What goes wrong on the way to the webhook, for the next `count` activities (default 1):
 * `late_answer` — the webhook answered 200, but after Microsoft's 10-second timeout, so Microsoft
 * tries again (a retry of a delivered activity); `down` — the webhook could not be reached for
 * any of the three attempts (the activity is only in the conversation's messages).
 */
interface WebhookFault {
  kind: 'late_answer' | 'down';
  count?: number;
}

export interface ConversationActivity {
  seq: number;
  at: string;
  /** The Messaging API's id of a message: a 13-digit epoch-milliseconds string, unique in the conversation. */
  messageId: string;
  side: 'customer' | 'representative';
  activity: Record<string, unknown>;
  /** For representatives' activities: the webhook's answer status per attempt. */
  webhook?: (number | string)[];
}

export interface Conversation {
  id: string;
  channelId: string;
  customerId: string | null;
  customer: Record<string, unknown>;
  context: Record<string, unknown>;
  startMessage: { message: string; displayname?: string } | null;
  /** The start message's id (the create's answer), listed first among the conversation's messages. */
  startMessageId?: string;
  active: boolean;
  createdAt: string;
  activities: ConversationActivity[];
}

export interface MessagingState {
  origin: string;
  channels: Map<string, MessagingChannel>;
  conversations: Map<string, Conversation>;
  /** Counts conversations created, to check that retries created none twice. */
  created: number;
  /**
   * The June 2025 preview's behaviour: `x-ms-channel-id`/`x-ms-organization-id` request headers
   * (the generally-available API reads `channel-id`/`organization-id`) and `x-ms-token` on
   * webhook calls (instead of `Authorization: Bearer`).
   */
  preview?: boolean;
  /** Each webhook attempt's timeout (Microsoft: 10 s); shorter in tests. */
  webhookTimeoutMs?: number;
  webhookFault?: WebhookFault;
}

export interface ServiceProtectionLimits {
  windowSeconds: number;
  requestsPerWindow: number;
  executionTimeMsPerWindow: number;
  concurrentRequests: number;
  /**
   * How much longer the wait gets for each request sent while throttled ("a client that keeps
   * sending while throttled extends the wait"; Microsoft does not publish the amount). Default 1 s.
   */
  throttlePenaltyMs?: number;
}

const DEFAULT_LIMITS: ServiceProtectionLimits = {
  windowSeconds: 300,
  requestsPerWindow: 6000,
  executionTimeMsPerWindow: 1_200_000,
  concurrentRequests: 52,
};

export interface DataverseRecord {
  id: string;
  version: number;
  attributes: Record<string, unknown>;
}

export interface Environment {
  name: string;
  tenantId: string;
  organizationId: string;
  businessUnitId: string;
  origin: string;
  /** The Omnichannel Messaging API's token resource: `https://<organization id without dashes>-c.crm.dynamics.com`. */
  messagingResource: string;
  users: Map<string, ApplicationUser>;
  records: Record<EntitySetName, Map<string, DataverseRecord>>;
  /** Columns added to this environment's tables (publisher-prefixed custom columns). */
  customColumns: Partial<Record<EntitySetName, Column[]>>;
  /** Records created per entity set, however they were created (POST, upsert, AddToQueue). */
  creates: Record<EntitySetName, number>;
  fault?: Fault;
  /** The environment's Omnichannel Messaging API (its own server). */
  messaging?: MessagingState;
  messagingFault?: Fault;
  /** Added to every request while it is being processed (counts as execution time). */
  latencyMs: number;
  limits: ServiceProtectionLimits;
  usage: Map<string, UsageCounters>;
  ticketSequence: number;
}

interface UsageCounters {
  /** Arrival times (ms) of requests in the sliding window. */
  arrivals: number[];
  /** [finishedAt, durationMs] of requests in the window. */
  executions: [number, number][];
  inFlight: number;
  /** The most requests in flight at once, and the 429s the limits answered (since the limits were set). */
  peakInFlight: number;
  throttled: number;
  /** While throttled by the request or execution-time limit: until when, and by which. */
  throttledUntil?: number;
  throttleCode?: string;
}

export interface LoggedRequest {
  seq: number;
  at: string;
  server: 'login' | 'dataverse' | 'messaging';
  origin: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Form fields of token requests (secrets included: this log exists so tests can check them). */
  form?: Record<string, string>;
  body?: unknown;
  status?: number;
  tenant?: string;
  clientId?: string;
  durationMs?: number;
  /** A part of a `$batch` request (logged beside the batch itself). */
  inBatch?: boolean;
}

export interface SandboxSettings {
  /** Lifetime of issued access tokens (Entra: randomised 60-90 min; recordings show 3599). */
  tokenLifetimeSeconds: number;
  /**
   * Not confirmed by Microsoft's documentation: what Entra answers for a well-formed resource no
   * environment answers to. `invalid_resource` = AADSTS500011; `issue_token` = a token is issued.
   */
  unknownResource: 'invalid_resource' | 'issue_token';
  /** Unconfirmed: the body of Entra's 429 (plain text observed). */
  throttleBody: 'text' | 'json';
  /** Unconfirmed: answer for an API version other than v9.2 (404 resource-not-found assumed). */
  unsupportedApiVersionStatus: 404 | 400;
  /** HTTP status for AADSTS700016 / 7000112 (400 assumed) and 7000222 (401 assumed). */
  appNotFoundStatus: number;
  appDisabledStatus: number;
  expiredSecretStatus: number;
}

const DEFAULT_SETTINGS: SandboxSettings = {
  tokenLifetimeSeconds: 3599,
  unknownResource: 'invalid_resource',
  throttleBody: 'text',
  unsupportedApiVersionStatus: 404,
  appNotFoundStatus: 400,
  appDisabledStatus: 400,
  expiredSecretStatus: 401,
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (value: string): boolean => GUID.test(value);

/** Azure shows the first three characters of a secret value; values are 40 characters. */
function newSecretValue(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(37);
  const body = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
  return `${body.slice(0, 3)}8Q~${body.slice(3)}`;
}

/** Stable GUID-shaped id derived from a name (privilege ids and the like). */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class SandboxModel {
  readonly tenants = new Map<string, Tenant>();
  readonly environments = new Map<string, Environment>();
  readonly requests: LoggedRequest[] = [];
  settings: SandboxSettings = { ...DEFAULT_SETTINGS };
  tokenFault?: Fault;
  /** Added to every token request. */
  tokenLatencyMs = 0;
  /**
   * Client assertions presented again (the same jti) and accepted: Entra accepts a reused
   * assertion within its validity (MSAL Node reuses its own for 10 minutes), so this counts them
   * for tests of clients that promise a new one each time.
   */
  assertionReuses = 0;
  readonly assertionsSeen = new Map<string, number>();
  private seq = 0;

  createTenant(input: { id?: string; name?: string; domains?: string[] } = {}): Tenant {
    const id = (input.id ?? randomUUID()).toLowerCase();
    if (!isGuid(id)) throw new Error('tenant id must be a GUID');
    const name = input.name ?? `Tenant ${id.slice(0, 8)}`;
    const domains = (
      input.domains ?? [`${name.toLowerCase().replace(/[^a-z0-9]/g, '')}.onmicrosoft.com`]
    ).map((d) => d.toLowerCase());
    const tenant: Tenant = { id, name, domains, apps: new Map() };
    this.tenants.set(id, tenant);
    return tenant;
  }

  findTenant(identifier: string): Tenant | undefined {
    const key = identifier.toLowerCase();
    return this.tenants.get(key) ?? [...this.tenants.values()].find((t) => t.domains.includes(key));
  }

  tenant(identifier: string): Tenant {
    const tenant = this.findTenant(identifier);
    if (!tenant) throw new NotFound(`tenant ${identifier}`);
    return tenant;
  }

  createApp(
    tenantId: string,
    input: { clientId?: string; name?: string; disabled?: boolean } = {},
  ): AppRegistration {
    const tenant = this.tenant(tenantId);
    const clientId = (input.clientId ?? randomUUID()).toLowerCase();
    const app: AppRegistration = {
      clientId,
      name: input.name ?? `App ${clientId.slice(0, 8)}`,
      objectId: randomUUID(),
      disabled: input.disabled ?? false,
      secrets: [],
      certificates: [],
    };
    tenant.apps.set(clientId, app);
    return app;
  }

  app(tenantId: string, clientId: string): AppRegistration {
    const app = this.tenant(tenantId).apps.get(clientId.toLowerCase());
    if (!app) throw new NotFound(`app ${clientId}`);
    return app;
  }

  addSecret(
    tenantId: string,
    clientId: string,
    input: { value?: string; id?: string; expiresAt?: string | Date } = {},
  ): Secret {
    const value = input.value ?? newSecretValue();
    const secret: Secret = {
      id: (input.id ?? randomUUID()).toLowerCase(),
      value,
      hint: value.slice(0, 3),
      expiresAt: input.expiresAt ? new Date(input.expiresAt) : new Date(Date.now() + 365 * 24 * 3600 * 1000),
      revoked: false,
    };
    if (Number.isNaN(secret.expiresAt.getTime())) throw new Error('expiresAt must be a date');
    this.app(tenantId, clientId).secrets.push(secret);
    return secret;
  }

  /**
   * Uploads a certificate's public part (PEM or DER) to an app, as the portal's Certificates &
   * secrets does; its validity comes from the certificate. `endDate` overrides it — a sandbox-only
   * shortcut to simulate time passing (an expired certificate).
   */
  addCertificate(
    tenantId: string,
    clientId: string,
    input: { certificate: string | Buffer; keyId?: string; endDate?: string | Date },
  ): AppCertificate {
    const parsed = new X509Certificate(input.certificate);
    const der = parsed.raw;
    const certificate: AppCertificate = {
      keyId: (input.keyId ?? randomUUID()).toLowerCase(),
      der,
      thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
      thumbprintSha256: createHash('sha256').update(der).digest('base64url'),
      startDate: new Date(parsed.validFrom),
      endDate: input.endDate ? new Date(input.endDate) : new Date(parsed.validTo),
      publicKey: parsed.publicKey,
    };
    if (Number.isNaN(certificate.endDate.getTime())) throw new Error('endDate must be a date');
    if (certificate.publicKey.asymmetricKeyType !== 'rsa') {
      // Entra's client assertions are RSA-signed (RS256/RS384/RS512, PS256).
      throw new Error('Only RSA certificates are supported for application credentials.');
    }
    const app = this.app(tenantId, clientId);
    app.certificates = app.certificates.filter((c) => c.thumbprint !== certificate.thumbprint);
    app.certificates.push(certificate);
    return certificate;
  }

  removeCertificate(tenantId: string, clientId: string, keyId: string): void {
    const app = this.app(tenantId, clientId);
    const before = app.certificates.length;
    app.certificates = app.certificates.filter((c) => c.keyId !== keyId.toLowerCase());
    if (app.certificates.length === before) throw new NotFound(`certificate ${keyId}`);
  }

  revokeSecret(tenantId: string, clientId: string, secretId: string): void {
    const secret = this.app(tenantId, clientId).secrets.find((s) => s.id === secretId.toLowerCase());
    if (!secret) throw new NotFound(`secret ${secretId}`);
    secret.revoked = true;
  }

  createEnvironment(input: {
    name: string;
    tenantId: string;
    origin: string;
    limits?: Partial<ServiceProtectionLimits>;
  }): Environment {
    const tenant = this.tenant(input.tenantId);
    if (this.environments.has(input.name)) throw new Error(`environment ${input.name} exists`);
    const organizationId = randomUUID();
    const environment: Environment = {
      name: input.name,
      tenantId: tenant.id,
      organizationId,
      messagingResource: `https://${organizationId.replace(/-/g, '')}-c.crm.dynamics.com`,
      businessUnitId: randomUUID(),
      origin: input.origin,
      users: new Map(),
      records: Object.fromEntries(ENTITY_SETS.map((set) => [set, new Map()])) as Environment['records'],
      customColumns: {},
      creates: Object.fromEntries(ENTITY_SETS.map((set) => [set, 0])) as Environment['creates'],
      latencyMs: 0,
      limits: { ...DEFAULT_LIMITS, ...input.limits },
      usage: new Map(),
      ticketSequence: 1000,
    };
    this.environments.set(input.name, environment);
    return environment;
  }

  environment(name: string): Environment {
    const environment = this.environments.get(name);
    if (!environment) throw new NotFound(`environment ${name}`);
    return environment;
  }

  environmentByOrigin(origin: string): Environment | undefined {
    return [...this.environments.values()].find((e) => e.origin === origin);
  }

  /** The environment a token resource (`https://org.crm.dynamics.com` or with a trailing slash) names. */
  environmentByResource(resource: string): Environment | undefined {
    const key = resource.replace(/\/+$/, '').toLowerCase();
    return (
      this.environmentByOrigin(key) ??
      [...this.environments.values()].find((e) => e.messagingResource === key)
    );
  }

  addApplicationUser(
    environmentName: string,
    input: {
      clientId: string;
      privileges?: string[] | 'all';
      depths?: Record<string, PrivilegeDepth>;
      disabled?: boolean;
    },
  ): ApplicationUser {
    const environment = this.environment(environmentName);
    const systemUserId = randomUUID();
    const clientId = input.clientId.toLowerCase();
    const user: ApplicationUser = {
      clientId,
      objectId: this.tenants.get(environment.tenantId)?.apps.get(clientId)?.objectId ?? randomUUID(),
      systemUserId,
      disabled: input.disabled ?? false,
      privileges:
        input.privileges === 'all' || input.privileges === undefined ? 'all' : new Set(input.privileges),
      depths: { ...input.depths },
      roleCount: 1,
    };
    environment.users.set(user.clientId, user);
    environment.records.systemusers.set(systemUserId, {
      id: systemUserId,
      version: 1,
      attributes: {
        systemuserid: systemUserId,
        fullname: `# ${input.clientId.slice(0, 8)} application user`,
        applicationid: user.clientId,
        isdisabled: user.disabled,
        domainname: `${user.clientId}@sandbox`,
      },
    });
    return user;
  }

  addCustomColumn(environmentName: string, set: EntitySetName, name: string, kind: Column['kind']): void {
    const environment = this.environment(environmentName);
    const columns = (environment.customColumns[set] ??= []);
    if (!columns.some((c) => c.name === name)) columns.push({ name, kind });
  }

  applicationUser(environmentName: string, clientId: string): ApplicationUser {
    const user = this.environment(environmentName).users.get(clientId.toLowerCase());
    if (!user) throw new NotFound(`application user ${clientId}`);
    return user;
  }

  removeApplicationUser(environmentName: string, clientId: string): void {
    const environment = this.environment(environmentName);
    const user = this.applicationUser(environmentName, clientId);
    environment.users.delete(user.clientId);
    environment.records.systemusers.delete(user.systemUserId);
  }

  log(entry: Omit<LoggedRequest, 'seq' | 'at'>): LoggedRequest {
    const logged: LoggedRequest = { seq: ++this.seq, at: new Date().toISOString(), ...entry };
    this.requests.push(logged);
    if (this.requests.length > 100_000) this.requests.splice(0, this.requests.length - 100_000);
    return logged;
  }

  /** Takes one use of a fault; returns it when it applies to this request. */
  static takeFault(
    holder: { fault?: Fault } | { tokenFault?: Fault } | { messagingFault?: Fault },
    key: 'fault' | 'tokenFault' | 'messagingFault',
    request?: { method: string; path: string },
  ): Fault | undefined {
    const record = holder as Record<string, Fault | undefined>;
    const fault = record[key];
    if (!fault) return undefined;
    if (fault.method && fault.method.toUpperCase() !== request?.method.toUpperCase()) return undefined;
    if (fault.path && !request?.path.startsWith(fault.path)) return undefined;
    if (fault.count !== undefined) {
      fault.count -= 1;
      if (fault.count <= 0) record[key] = undefined;
    }
    return fault;
  }
}

export class NotFound extends Error {
  constructor(what: string) {
    super(`${what} not found`);
  }
}
