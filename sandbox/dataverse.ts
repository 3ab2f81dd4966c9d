import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, jwtVerify } from 'jose';
import { ENTITIES, EntityInfo, isEntitySet, isReadableColumn, isWritableColumn } from './entities.js';
import { headersOf } from './entra.js';
import { applyFault } from './faults.js';
import { ApplicationUser, DataverseRecord, Environment, isGuid, SandboxModel, stableGuid } from './model.js';
import { filterProperties, matches, ODataError, parseFilter } from './odata.js';
import type { SigningKey } from './signing.js';

/**
 * One Dataverse environment's Web API (`/api/data/v9.2/`), as Microsoft documents it: token checks
 * answered 401 with an empty body and `WWW-Authenticate`, application users and privileges
 * (403 with Dataverse's codes and message shapes), service protection limits from real counters
 * (429 + Retry-After), queries and creates.
 */

class DataverseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const API_PREFIX = '/api/data/';
const VERSION = 'v9.2';

export function registerDataverse(
  app: FastifyInstance,
  model: SandboxModel,
  key: SigningKey,
  environmentName: string,
  loginUrl: () => string,
): void {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch {
      done(null, { __invalidJson: true });
    }
  });

  app.all('/*', async (request, reply) => {
    const environment = model.environment(environmentName);
    const started = performance.now();
    const logged = model.log({
      server: 'dataverse',
      origin: environment.origin,
      method: request.method,
      path: request.url.split('?')[0],
      query: request.query as Record<string, string>,
      headers: headersOf(request),
      body: request.body,
    });
    reply.raw.once('finish', () => {
      logged.status = reply.statusCode;
      logged.durationMs = Math.round((performance.now() - started) * 100) / 100;
    });
    const requestId = randomUUID();
    void reply.headers({ 'odata-version': '4.0', req_id: requestId, 'x-ms-service-request-id': requestId });

    const fault = SandboxModel.takeFault(environment, 'fault');
    if (fault) {
      if ((await applyFault(fault, request, reply)) === 'connection-closed') return reply;
      if (fault.status) {
        const code = fault.code ?? (fault.status === 429 ? '0x80072322' : '0x80040216');
        const message =
          fault.message ??
          (fault.status === 429
            ? LIMIT_MESSAGES['0x80072322'](environment)
            : 'An unexpected error occurred.');
        return sendError(
          reply,
          new DataverseError(fault.status, code, message, retryAfterHeader(fault.retryAfter)),
        );
      }
    }

    let user: ApplicationUser | undefined;
    try {
      user = await authenticate(request, environment, key);
      const release = admit(environment, user, reply);
      try {
        if (environment.latencyMs > 0)
          await new Promise((resolve) => setTimeout(resolve, environment.latencyMs));
        return await route(request, reply, model, environment, user);
      } finally {
        release();
      }
    } catch (error) {
      if (error instanceof Unauthenticated) {
        return reply
          .status(401)
          .header(
            'www-authenticate',
            `Bearer authorization_uri=${loginUrl()}/${environment.tenantId}/oauth2/authorize, resource_id=${environment.origin}/`,
          )
          .removeHeader('content-type')
          .send('');
      }
      if (error instanceof DataverseError) return sendError(reply, error);
      throw error;
    }
  });
}

class Unauthenticated extends Error {}

async function authenticate(
  request: FastifyRequest,
  environment: Environment,
  key: SigningKey,
): Promise<ApplicationUser> {
  const match = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '');
  if (!match) throw new Unauthenticated();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(match[1], key.publicKey, { algorithms: ['RS256'] }));
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new Unauthenticated();
    throw error;
  }
  const audience =
    typeof payload.aud === 'string' ? payload.aud.replace(/\/+$/, '').toLowerCase() : undefined;
  if (audience !== environment.origin || payload.tid !== environment.tenantId) throw new Unauthenticated();
  const user = environment.users.get(String(payload.appid).toLowerCase());
  if (!user) throw new DataverseError(403, '0x80072560', 'The user is not a member of the organization.');
  if (user.disabled) throw new DataverseError(403, '0x80040225', 'The specified user is disabled.');
  return user;
}

const LIMIT_MESSAGES: Record<string, (e: Environment) => string> = {
  '0x80072322': (e) =>
    `Number of requests exceeded the limit of ${e.limits.requestsPerWindow} over time window of ${e.limits.windowSeconds} seconds.`,
  '0x80072321': (e) =>
    `Combined execution time of incoming requests exceeded limit of ${e.limits.executionTimeMsPerWindow.toLocaleString('en-US')} milliseconds over time window of ${e.limits.windowSeconds} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.`,
  '0x80072326': (e) => `Number of concurrent requests exceeded the limit of ${e.limits.concurrentRequests}.`,
};

/** Service protection limits per application user, from real counters over a sliding window. */
function admit(environment: Environment, user: ApplicationUser, reply: FastifyReply): () => void {
  const now = Date.now();
  const windowMs = environment.limits.windowSeconds * 1000;
  let usage = environment.usage.get(user.clientId);
  if (!usage) {
    usage = { arrivals: [], executions: [], inFlight: 0 };
    environment.usage.set(user.clientId, usage);
  }
  while (usage.arrivals.length && usage.arrivals[0] <= now - windowMs) usage.arrivals.shift();
  while (usage.executions.length && usage.executions[0][0] <= now - windowMs) usage.executions.shift();

  if (usage.inFlight >= environment.limits.concurrentRequests) {
    throw limitError(environment, '0x80072326', 1);
  }
  if (usage.arrivals.length >= environment.limits.requestsPerWindow) {
    throw limitError(environment, '0x80072322', Math.ceil((usage.arrivals[0] + windowMs - now) / 1000));
  }
  const executed = usage.executions.reduce((sum, [, ms]) => sum + ms, 0);
  if (executed >= environment.limits.executionTimeMsPerWindow) {
    throw limitError(environment, '0x80072321', Math.ceil((usage.executions[0][0] + windowMs - now) / 1000));
  }
  usage.arrivals.push(now);
  usage.inFlight += 1;
  void reply.headers({
    'x-ms-ratelimit-burst-remaining-xrm-requests': String(
      environment.limits.requestsPerWindow - usage.arrivals.length,
    ),
    'x-ms-ratelimit-time-remaining-xrm-requests': (
      environment.limits.executionTimeMsPerWindow - executed
    ).toFixed(2),
  });
  const counters = usage;
  return () => {
    counters.inFlight -= 1;
    counters.executions.push([Date.now(), Date.now() - now]);
  };
}

function limitError(environment: Environment, code: string, retryAfter: number): DataverseError {
  return new DataverseError(
    429,
    code,
    LIMIT_MESSAGES[code](environment),
    retryAfterHeader(Math.max(1, retryAfter)),
  );
}

function retryAfterHeader(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}

async function route(
  request: FastifyRequest,
  reply: FastifyReply,
  model: SandboxModel,
  environment: Environment,
  user: ApplicationUser,
) {
  const path = request.url.split('?')[0];
  if (!path.startsWith(API_PREFIX)) {
    throw new DataverseError(
      404,
      '0x8006088a',
      `Resource not found for the segment '${path.split('/')[1] ?? ''}'.`,
    );
  }
  const [version, ...segments] = decodeURIComponent(path.slice(API_PREFIX.length)).split('/');
  if (version !== VERSION) {
    throw new DataverseError(
      model.settings.unsupportedApiVersionStatus,
      '0x8006088a',
      `Resource not found for the segment '${version}'.`,
    );
  }
  const segment = segments[0] ?? '';
  if (segments.length > 1)
    throw new DataverseError(404, '0x8006088a', `Resource not found for the segment '${segments[1]}'.`);

  if (segment === 'WhoAmI' || segment === 'WhoAmI()') {
    if (request.method !== 'GET') throw methodNotAllowed(request.method);
    return send(reply, 200, {
      '@odata.context': `${environment.origin}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
      BusinessUnitId: environment.businessUnitId,
      UserId: user.systemUserId,
      OrganizationId: environment.organizationId,
    });
  }

  const keyed = /^([A-Za-z_]+)\(([^)]*)\)$/.exec(segment);
  const setName = keyed ? keyed[1] : segment;
  if (!isEntitySet(setName))
    throw new DataverseError(404, '0x8006088a', `Resource not found for the segment '${setName}'.`);
  const entity = ENTITIES[setName];
  const query = request.query as Record<string, string>;

  if (keyed) {
    if (request.method !== 'GET') throw methodNotAllowed(request.method);
    const id = keyed[2].toLowerCase();
    if (!isGuid(id)) {
      throw new DataverseError(400, '0x80060888', `Bad Request - Error in query syntax.`);
    }
    requirePrivilege(environment, user, 'Read', entity);
    const record = environment.records[entity.set].get(id);
    if (!record)
      throw new DataverseError(404, '0x80040217', `${entity.logicalName} With Id = ${id} Does Not Exist`);
    const select = parseSelect(entity, query.$select);
    return send(reply, 200, {
      '@odata.context': `${environment.origin}/api/data/v9.2/$metadata#${entity.set}${select ? `(${select.join(',')})` : ''}/$entity`,
      ...present(entity, record, select),
    });
  }

  if (request.method === 'GET') return list(reply, environment, user, entity, query);
  if (request.method === 'POST') return create(request, reply, environment, user, entity, query);
  throw methodNotAllowed(request.method);
}

function methodNotAllowed(method: string): DataverseError {
  return new DataverseError(
    405,
    '0x80060888',
    `The HTTP method '${method}' is not allowed for this resource.`,
  );
}

const SUPPORTED_QUERY_OPTIONS = ['$select', '$top', '$filter', '$count', '$orderby'];

function list(
  reply: FastifyReply,
  environment: Environment,
  user: ApplicationUser,
  entity: EntityInfo,
  query: Record<string, string>,
) {
  for (const option of Object.keys(query)) {
    if (option.startsWith('$') && !SUPPORTED_QUERY_OPTIONS.includes(option)) {
      throw new DataverseError(400, '0x80060888', `The query parameter ${option} is not supported`);
    }
  }
  requirePrivilege(environment, user, 'Read', entity);
  const select = parseSelect(entity, query.$select);
  let top: number | undefined;
  if (query.$top !== undefined) {
    top = Number(query.$top);
    if (!/^\d+$/.test(query.$top)) {
      throw new DataverseError(
        400,
        '0x80060888',
        `Invalid value '${query.$top}' for $top query option found. The $top query option requires a non-negative integer value.`,
      );
    }
  }
  let rows = [...environment.records[entity.set].values()];
  if (query.$filter !== undefined) {
    let filter;
    try {
      filter = parseFilter(query.$filter);
    } catch (error) {
      if (error instanceof ODataError) throw new DataverseError(400, '0x80060888', error.message);
      throw error;
    }
    for (const property of filterProperties(filter)) {
      if (!isReadableColumn(entity, property)) throw unknownProperty(entity, property);
    }
    rows = rows.filter((r) => matches(filter, { [entity.primaryKey]: r.id, ...r.attributes }));
  }
  const count = rows.length;
  rows = rows.slice(0, Math.min(top ?? 5000, 5000));
  return send(reply, 200, {
    '@odata.context': `${environment.origin}/api/data/v9.2/$metadata#${entity.set}${select ? `(${select.join(',')})` : ''}`,
    ...(query.$count === 'true' ? { '@odata.count': count } : {}),
    value: rows.map((r) => present(entity, r, select)),
  });
}

function parseSelect(entity: EntityInfo, select: string | undefined): string[] | undefined {
  if (select === undefined) return undefined;
  const columns = select
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const column of columns) if (!isReadableColumn(entity, column)) throw unknownProperty(entity, column);
  return columns;
}

function unknownProperty(entity: EntityInfo, property: string): DataverseError {
  return new DataverseError(
    400,
    '0x80060888',
    `Could not find a property named '${property}' on type 'Microsoft.Dynamics.CRM.${entity.logicalName}'.`,
  );
}

function present(
  entity: EntityInfo,
  record: DataverseRecord,
  select: string[] | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.etag': `W/"${record.version}"` };
  const columns = select ?? [...entity.columns, ...entity.systemColumns, ...Object.keys(record.attributes)];
  for (const column of columns) {
    if (column === entity.primaryKey) continue;
    out[column] = record.attributes[column] ?? null;
  }
  out[entity.primaryKey] = record.id;
  return out;
}

async function create(
  request: FastifyRequest,
  reply: FastifyReply,
  environment: Environment,
  user: ApplicationUser,
  entity: EntityInfo,
  query: Record<string, string>,
) {
  if (!entity.creatable) throw methodNotAllowed('POST');
  const body = request.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body) || '__invalidJson' in body) {
    throw new DataverseError(400, '0x80060888', 'The request body is not valid JSON for an entity.');
  }
  requirePrivilege(environment, user, 'Create', entity);

  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name.endsWith('@odata.bind')) {
      const navigation = name.slice(0, -'@odata.bind'.length);
      const info = entity.navigations[navigation];
      if (!info) {
        throw new DataverseError(
          400,
          '0x80060888',
          `An undeclared property '${navigation}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.`,
        );
      }
      const target = parseBind(environment, value);
      if (!target || !info.targets.includes(target.set)) {
        throw new DataverseError(
          400,
          '0x80060888',
          `A URL '${String(value)}' given in '${name}' is not valid for navigation property '${navigation}'.`,
        );
      }
      const targetEntity = ENTITIES[target.set];
      requirePrivilege(environment, user, 'Append', entity);
      requirePrivilege(environment, user, 'AppendTo', targetEntity);
      if (!environment.records[target.set].has(target.id)) {
        throw new DataverseError(
          404,
          '0x80040217',
          `${targetEntity.logicalName} With Id = ${target.id} Does Not Exist`,
        );
      }
      attributes[info.lookup] = target.id;
    } else if (name.startsWith('@')) {
      continue;
    } else if (isWritableColumn(entity, name)) {
      attributes[name] = value;
    } else {
      throw new DataverseError(
        400,
        '0x80060888',
        `Invalid property '${name}' was found in entity 'Microsoft.Dynamics.CRM.${entity.logicalName}'.`,
      );
    }
  }

  const id = randomUUID();
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (entity.set === 'incidents') {
    if (!attributes._customerid_value) {
      throw new DataverseError(400, '0x80040203', 'You should specify a parent contact or account.');
    }
    environment.ticketSequence += 1;
    attributes.ticketnumber = `CAS-${String(environment.ticketSequence).padStart(5, '0')}-${randomTicketSuffix()}`;
    attributes.prioritycode ??= 2;
    attributes.statecode ??= 0;
    attributes.statuscode ??= 1;
    attributes._ownerid_value ??= user.systemUserId;
  }
  if (entity.set === 'contacts') {
    attributes.fullname = [attributes.firstname, attributes.lastname].filter(Boolean).join(' ');
    attributes._ownerid_value ??= user.systemUserId;
    attributes.statecode ??= 0;
  }
  attributes.createdon = now;
  attributes.modifiedon = now;
  const record: DataverseRecord = {
    id,
    version: 1_000_000 + Math.floor(Math.random() * 9_000_000),
    attributes,
  };
  environment.records[entity.set].set(id, record);

  const entityUrl = `${environment.origin}/api/data/v9.2/${entity.set}(${id})`;
  const prefer = String(request.headers.prefer ?? '');
  if (/return=representation/i.test(prefer)) {
    const select = parseSelect(entity, query.$select);
    void reply.header('preference-applied', 'return=representation');
    return send(reply, 201, {
      '@odata.context': `${environment.origin}/api/data/v9.2/$metadata#${entity.set}${select ? `(${select.join(',')})` : ''}/$entity`,
      ...present(entity, record, select),
    });
  }
  return reply.status(204).header('odata-entityid', entityUrl).header('location', entityUrl).send();
}

/** `/contacts(<id>)`, `contacts(<id>)` or an absolute `https://org/api/data/v9.2/contacts(<id>)`. */
function parseBind(
  environment: Environment,
  value: unknown,
): { set: keyof typeof ENTITIES; id: string } | undefined {
  if (typeof value !== 'string') return undefined;
  let path = value;
  if (/^https?:\/\//i.test(value)) {
    if (!value.toLowerCase().startsWith(`${environment.origin}/api/data/v9.2/`)) return undefined;
    path = value.slice(`${environment.origin}/api/data/v9.2/`.length);
  }
  const match = /^\/?([a-z_]+)\(([0-9a-fA-F-]{36})\)$/.exec(path);
  if (!match || !isEntitySet(match[1]) || !isGuid(match[2])) return undefined;
  return { set: match[1], id: match[2].toLowerCase() };
}

function randomTicketSuffix(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(6), (b) => alphabet[b % alphabet.length]).join('');
}

function privilegeName(action: string, entity: EntityInfo): string {
  return `prv${action}${entity.schemaName}`;
}

function requirePrivilege(
  environment: Environment,
  user: ApplicationUser,
  action: string,
  entity: EntityInfo,
): void {
  if (user.privileges === 'all') return;
  const name = privilegeName(action, entity);
  if (user.privileges.has(name)) return;
  const count = user.privileges.size;
  throw new DataverseError(
    403,
    '0x80040220',
    `Principal user (Id=${user.systemUserId}, type=8, roleCount=${user.roleCount}, privilegeCount=${count}, accessMode='4 Non-interactive', AADObjectId='${user.objectId}', MetadataCachePrivilegesCount=${count + 4000}, businessUnitId=${environment.businessUnitId}), is missing ${name} privilege (Id=${stableGuid(name)}) on OTC=${entity.objectTypeCode} for entity '${entity.logicalName}' (LocalizedName='${entity.localizedName}'). context.Caller=${user.systemUserId}. Consider adding missed privilege to one of the principal (user/team) roles.`,
  );
}

function send(reply: FastifyReply, status: number, body: unknown) {
  // A Buffer, so Fastify sends the content type exactly as Dataverse does (it rewrites it for strings).
  return reply
    .status(status)
    .header('content-type', 'application/json; odata.metadata=minimal')
    .send(Buffer.from(JSON.stringify(body)));
}

function sendError(reply: FastifyReply, error: DataverseError) {
  for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
  return send(reply, error.status, { error: { code: error.code, message: error.message } });
}
