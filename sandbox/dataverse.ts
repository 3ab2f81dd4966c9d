// One Dataverse environment's Web API (`/api/data/v9.2/`), as Microsoft documents it: token
// checks answered 401 with an empty body and `WWW-Authenticate`; application users and privileges
// (403 with Dataverse's codes and message shapes); service protection limits from real counters
// (429 + Retry-After); queries, creates, updates, upserts, deletes, AddToQueue and `$batch`.
// Whatever it does not simulate is answered 501 with a message naming it, never 200.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, jwtVerify } from 'jose';
import { ENTITIES, EntityInfo, isEntitySet } from './entities.js';
import { headersOf } from './entra.js';
import { applyFault } from './faults.js';
import {
  DataverseError,
  DvContext,
  DvRequest,
  DvResponse,
  errorResponse,
  json,
  notSimulated,
  parsePrefer,
  Preferences,
  WEB_API,
} from './dataverse-protocol.js';
import { countRecords, listRecords, retrieveRecord } from './dataverse-query.js';
import {
  addToQueue,
  attributesFromBody,
  createRecord,
  etagOf,
  notFound,
  present,
  requirePrivilege,
  updateRecord,
} from './dataverse-records.js';
import { ApplicationUser, Environment, isGuid, SandboxModel, stableGuid } from './model.js';
import type { SigningKey } from './signing.js';

export function registerDataverse(
  app: FastifyInstance,
  model: SandboxModel,
  key: SigningKey,
  environmentName: string,
  loginUrl: () => string,
): void {
  // Bodies are read as text and interpreted per route: JSON entities, multipart $batch.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.all('/*', async (request, reply) => {
    const environment = model.environment(environmentName);
    const started = performance.now();
    const rawBody = typeof request.body === 'string' ? request.body : '';
    const logged = model.log({
      server: 'dataverse',
      origin: environment.origin,
      method: request.method,
      path: request.url.split('?')[0],
      query: request.query as Record<string, string>,
      headers: headersOf(request),
      body: parseJsonBody(rawBody),
    });
    reply.raw.once('finish', () => {
      logged.status = reply.statusCode;
      logged.durationMs = Math.round((performance.now() - started) * 100) / 100;
    });
    const requestId = randomUUID();
    void reply.headers({ 'odata-version': '4.0', req_id: requestId, 'x-ms-service-request-id': requestId });

    const fault = SandboxModel.takeFault(environment, 'fault', {
      method: request.method,
      path: request.url.split('?')[0].replace(/^\/api\/data\/v\d+\.\d+/, ''),
    });
    if (fault) {
      if ((await applyFault(fault, request, reply)) === 'connection-closed') return reply;
      if (fault.status) {
        const code = fault.code ?? (fault.status === 429 ? '0x80072322' : '0x80040216');
        const message =
          fault.message ??
          (fault.status === 429
            ? LIMIT_MESSAGES['0x80072322'](environment)
            : 'An unexpected error occurred.');
        return send(
          reply,
          errorResponse(
            new DataverseError(fault.status, code, message, retryAfterHeader(fault.retryAfter)),
            undefined,
          ),
        );
      }
    }

    let prefer: Preferences | undefined;
    try {
      const user = await authenticate(request, environment, key);
      prefer = parsePrefer(headerOf(request, 'prefer'));
      refuseUnsimulatedHeaders(request);
      const release = admit(environment, user, reply);
      let response: DvResponse;
      try {
        if (environment.latencyMs > 0)
          await new Promise((resolve) => setTimeout(resolve, environment.latencyMs));
        response = await handle({ model, environment, user, prefer }, toDvRequest(request, rawBody), true);
      } finally {
        release();
      }
      if (fault?.resetAfterProcessing) {
        // Processed (a create is made), then the answer is lost on the way back.
        request.raw.socket.destroy();
        reply.hijack();
        return reply;
      }
      return send(reply, response);
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
      if (error instanceof DataverseError) return send(reply, errorResponse(error, prefer));
      throw error;
    }
  });
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseJsonBody(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function toDvRequest(request: FastifyRequest, rawBody: string): DvRequest {
  const [path, rawQuery = ''] = request.url.split(/\?(.*)/s);
  return {
    method: request.method,
    segments: pathSegments(path),
    rawQuery,
    query: request.query as Record<string, string>,
    headers: Object.fromEntries(Object.entries(headersOf(request))),
    body: parseJsonBody(rawBody),
    rawBody,
  };
}

function pathSegments(path: string): string[] {
  return path.split('/').map((s) => decodeURIComponent(s));
}

function send(reply: FastifyReply, response: DvResponse) {
  void reply.status(response.status).headers(response.headers);
  // A Buffer, so Fastify sends the content type exactly as Dataverse does (it rewrites it for strings).
  return reply.send(response.body === undefined ? undefined : Buffer.from(response.body));
}

class Unauthenticated extends Error {}

/**
 * Headers that change what Dataverse does and that the sandbox does not simulate: a loud 501, never
 * the request carried out as if they were absent. Impersonation (`CallerObjectId`, `MSCRMCallerID`)
 * would act as another user; `MSCRM.SuppressDuplicateDetection: false` would run duplicate detection.
 */
function refuseUnsimulatedHeaders(request: FastifyRequest): void {
  for (const name of ['callerobjectid', 'mscrmcallerid']) {
    if (headerOf(request, name) !== undefined) {
      throw new DataverseError(
        501,
        '0x80060888',
        `The sandbox does not simulate impersonation (the ${name === 'callerobjectid' ? 'CallerObjectId' : 'MSCRMCallerID'} header).`,
      );
    }
  }
  if (headerOf(request, 'mscrm.suppressduplicatedetection')?.trim().toLowerCase() === 'false') {
    throw new DataverseError(
      501,
      '0x80060888',
      'The sandbox does not simulate duplicate detection (MSCRM.SuppressDuplicateDetection: false).',
    );
  }
}

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
    usage = { arrivals: [], executions: [], inFlight: 0, peakInFlight: 0, throttled: 0 };
    environment.usage.set(user.clientId, usage);
  }
  while (usage.arrivals.length && usage.arrivals[0] <= now - windowMs) usage.arrivals.shift();
  while (usage.executions.length && usage.executions[0][0] <= now - windowMs) usage.executions.shift();

  if (usage.throttledUntil !== undefined && now < usage.throttledUntil) {
    // Sending while throttled extends the wait (Microsoft's "Service protection API limits").
    usage.throttledUntil += environment.limits.throttlePenaltyMs ?? 1000;
    usage.throttled += 1;
    throw limitError(environment, usage.throttleCode!, Math.ceil((usage.throttledUntil - now) / 1000));
  }
  const throttle = (code: string, until: number) => {
    usage.throttledUntil = until;
    usage.throttleCode = code;
    usage.throttled += 1;
    return limitError(environment, code, Math.ceil((until - now) / 1000));
  };
  if (usage.inFlight >= environment.limits.concurrentRequests) {
    usage.throttled += 1;
    throw limitError(environment, '0x80072326', 1);
  }
  if (usage.arrivals.length >= environment.limits.requestsPerWindow) {
    throw throttle('0x80072322', usage.arrivals[0] + windowMs);
  }
  const executed = usage.executions.reduce((sum, [, ms]) => sum + ms, 0);
  if (executed >= environment.limits.executionTimeMsPerWindow) {
    throw throttle('0x80072321', usage.executions[0][0] + windowMs);
  }
  usage.arrivals.push(now);
  usage.inFlight += 1;
  usage.peakInFlight = Math.max(usage.peakInFlight, usage.inFlight);
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

function resourceNotFound(segment: string): DataverseError {
  return new DataverseError(404, '0x8006088a', `Resource not found for the segment '${segment}'.`);
}

function methodNotAllowed(method: string): DataverseError {
  return new DataverseError(
    405,
    '0x80060888',
    `The HTTP method '${method}' is not allowed for this resource.`,
  );
}

/** Routes one request (or one `$batch` part) to its operation. */
async function handle(ctx: DvContext, request: DvRequest, outermost: boolean): Promise<DvResponse> {
  const { model } = ctx;
  const [first, api, data, version, ...rest] = request.segments;
  if (first !== '' || api !== 'api' || data !== 'data') throw resourceNotFound(api ?? '');
  // Dataverse still serves the Web API's earlier 9.x versions the same way.
  if (version !== 'v9.2' && version !== 'v9.1' && version !== 'v9.0') {
    throw new DataverseError(
      model.settings.unsupportedApiVersionStatus,
      '0x8006088a',
      `Resource not found for the segment '${version}'.`,
    );
  }
  const segments = rest.filter((s, i) => s !== '' || i < rest.length - 1);
  const [segment = '', next, ...beyond] = segments;
  if (segment === '') throw notSimulated('the service document');
  if (segment === '$metadata') throw notSimulated('$metadata (CSDL)');
  if (segment === '$batch') {
    if (request.method !== 'POST') throw methodNotAllowed(request.method);
    if (!outermost)
      throw new DataverseError(400, '0x80060888', 'A $batch request cannot contain another $batch request.');
    return batch(ctx, request);
  }
  if (segment === 'WhoAmI' || segment === 'WhoAmI()') {
    if (request.method !== 'GET') throw methodNotAllowed(request.method);
    return json(200, {
      '@odata.context': `${ctx.environment.origin}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
      BusinessUnitId: ctx.environment.businessUnitId,
      UserId: ctx.user.systemUserId,
      OrganizationId: ctx.environment.organizationId,
    });
  }
  if (/^(EntityDefinitions|GlobalOptionSetDefinitions|RelationshipDefinitions)\b/.test(segment)) {
    throw notSimulated('metadata queries (EntityDefinitions and the like)');
  }

  const keyed = /^([A-Za-z_]\w*)\((.*)\)$/.exec(segment);
  const setName = keyed ? keyed[1] : segment;
  if (!isEntitySet(setName)) {
    // A POST to a name that is no table can only be an action; a call with parentheses, a function.
    if (segment.includes('.') || keyed || request.method === 'POST') {
      throw notSimulated(`the function or action '${segment}'`);
    }
    throw resourceNotFound(setName);
  }
  const entity = ENTITIES[setName];

  if (!keyed) {
    if (next === '$count' && beyond.length === 0) {
      if (request.method !== 'GET') throw methodNotAllowed(request.method);
      return countRecords(ctx, entity, request);
    }
    if (next !== undefined) {
      if (next.includes('.')) throw notSimulated(`the collection-bound operation '${next}'`);
      throw resourceNotFound(next);
    }
    if (request.method === 'GET') return listRecords(ctx, entity, request);
    if (request.method === 'POST') return create(ctx, entity, request);
    throw methodNotAllowed(request.method);
  }

  const key = keyed[2];
  if (!isGuid(key)) {
    if (/^\w+=/.test(key)) throw notSimulated(`alternate keys (${segment})`);
    throw new DataverseError(400, '0x80060888', 'Bad Request - Error in query syntax.');
  }
  const id = key.toLowerCase();
  if (next !== undefined) {
    if (next === 'Microsoft.Dynamics.CRM.AddToQueue' && entity.set === 'queues' && beyond.length === 0) {
      if (request.method !== 'POST') throw methodNotAllowed(request.method);
      const { queueItemId } = addToQueue(ctx, id, request.body);
      return json(200, {
        '@odata.context': `${ctx.environment.origin}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.AddToQueueResponse`,
        QueueItemId: queueItemId,
      });
    }
    const privileges = /^Microsoft\.Dynamics\.CRM\.RetrieveUserSetOfPrivilegesByNames\((.*)\)$/s.exec(next);
    if (privileges && entity.set === 'systemusers' && beyond.length === 0) {
      if (request.method !== 'GET') throw methodNotAllowed(request.method);
      return userPrivileges(ctx, id, privileges[1], request.query);
    }
    if (next.includes('.')) throw notSimulated(`the bound operation '${next}'`);
    throw notSimulated(`reading or writing a single property or navigation ('${segment}/${next}')`);
  }
  switch (request.method) {
    case 'GET':
      return retrieveRecord(ctx, entity, id, request);
    case 'PATCH':
      return upsert(ctx, entity, id, request);
    case 'DELETE':
      return remove(ctx, entity, id, request);
    default:
      throw methodNotAllowed(request.method);
  }
}

/**
 * `systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserSetOfPrivilegesByNames(PrivilegeNames=@p1)?@p1=[…]`:
 * the named privileges the user holds through its roles and its teams' roles, each with its depth
 * (Microsoft: RetrieveUserSetOfPrivilegesByNames Function, RolePrivilege ComplexType). A name the
 * user does not hold, or that does not exist, is absent from the answer. Another user's privileges
 * need Read on User.
 */
function userPrivileges(
  ctx: DvContext,
  id: string,
  parameters: string,
  query: Record<string, string>,
): DvResponse {
  const { environment, user } = ctx;
  const assigned = /^PrivilegeNames=(.*)$/s.exec(parameters.trim());
  if (!assigned) {
    throw new DataverseError(
      400,
      '0x80060888',
      "The parameter 'PrivilegeNames' of the function 'RetrieveUserSetOfPrivilegesByNames' is missing.",
    );
  }
  const literal = assigned[1].startsWith('@') ? query[assigned[1]] : assigned[1];
  let names: unknown;
  try {
    names = literal === undefined ? undefined : JSON.parse(literal.replace(/'/g, '"'));
  } catch {
    names = undefined;
  }
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw new DataverseError(
      400,
      '0x80060888',
      'The value of the parameter \'PrivilegeNames\' is not a valid collection of strings: send it as a JSON array, e.g. @p1=["prvReadIncident"].',
    );
  }
  if (id !== user.systemUserId) requirePrivilege(environment, user, 'Read', ENTITIES.systemusers);
  const subject = [...environment.users.values()].find((u) => u.systemUserId === id);
  if (!subject) {
    if (!environment.records.systemusers.has(id)) throw notFound(ENTITIES.systemusers, id);
  }
  const held = (name: string) =>
    subject !== undefined &&
    (subject.privileges === 'all' ? KNOWN_PRIVILEGE.test(name) : subject.privileges.has(name));
  return json(200, {
    '@odata.context': `${environment.origin}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.RetrieveUserSetOfPrivilegesByNamesResponse`,
    RolePrivileges: [...new Set(names)].filter(held).map((name) => ({
      Depth: subject!.privileges === 'all' ? 'Global' : (subject!.depths[name] ?? 'Global'),
      PrivilegeId: stableGuid(name),
      BusinessUnitId: environment.businessUnitId,
      PrivilegeName: name,
    })),
  });
}

/** Privilege names as Dataverse forms them (System Administrator holds every one that exists). */
const KNOWN_PRIVILEGE = /^prv(Create|Read|Write|Delete|Append|AppendTo|Assign|Share)[A-Z]\w*$/;

function entityUrl(ctx: DvContext, entity: EntityInfo, id: string): string {
  return `${ctx.environment.origin}/api/data/v9.2/${entity.set}(${id})`;
}

function written(
  ctx: DvContext,
  entity: EntityInfo,
  id: string,
  request: DvRequest,
  created: boolean,
): DvResponse {
  const record = ctx.environment.records[entity.set].get(id)!;
  if (ctx.prefer.returnRepresentation) {
    const select = request.query.$select?.split(',').map((c) => c.trim());
    return json(
      created ? 201 : 200,
      {
        '@odata.context': `${ctx.environment.origin}/api/data/v9.2/$metadata#${entity.set}${select ? `(${select.join(',')})` : ''}/$entity`,
        ...present(ctx, entity, record, select),
      },
      { 'preference-applied': 'return=representation', etag: etagOf(record) },
    );
  }
  const url = entityUrl(ctx, entity, id);
  return { status: 204, headers: { 'odata-entityid': url, ...(created ? { location: url } : {}) } };
}

function create(ctx: DvContext, entity: EntityInfo, request: DvRequest): DvResponse {
  if (!entity.creatable) {
    throw entity.set === 'queueitems'
      ? notSimulated('creating queue items directly (use queues(<id>)/Microsoft.Dynamics.CRM.AddToQueue)')
      : methodNotAllowed('POST');
  }
  const body = (request.body ?? undefined) as Record<string, unknown> | undefined;
  const given = body?.[entity.primaryKey];
  const { [entity.primaryKey]: _key, ...rest } = body && typeof body === 'object' ? body : {};
  const attributes = attributesFromBody(ctx, entity, body && typeof body === 'object' ? rest : body);
  const id = typeof given === 'string' && isGuid(given) ? given.toLowerCase() : randomUUID();
  if (ctx.environment.records[entity.set].has(id)) {
    throw new DataverseError(412, '0x80040237', 'Cannot insert duplicate key.');
  }
  createRecord(ctx, entity, id, attributes);
  return written(ctx, entity, id, request, true);
}

/** PATCH: update, or create when missing (upsert); If-Match / If-None-Match narrow it. */
function upsert(ctx: DvContext, entity: EntityInfo, id: string, request: DvRequest): DvResponse {
  const existing = ctx.environment.records[entity.set].get(id);
  const ifMatch = request.headers['if-match'];
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch === '*' && existing) {
    throw new DataverseError(412, '0x80040237', 'A record with matching key values already exists.');
  }
  if (ifMatch !== undefined) {
    if (!existing) throw notFound(entity, id);
    if (ifMatch !== '*' && ifMatch !== etagOf(existing)) throw versionMismatch();
  }
  const attributes = attributesFromBody(ctx, entity, request.body);
  if (existing) {
    updateRecord(ctx, entity, existing, attributes);
    return written(ctx, entity, id, request, false);
  }
  if (!entity.creatable) throw methodNotAllowed('PATCH');
  createRecord(ctx, entity, id, attributes);
  return written(ctx, entity, id, request, true);
}

function versionMismatch(): DataverseError {
  return new DataverseError(
    412,
    '0x80060882',
    "The version of the existing record doesn't match the RowVersion property provided.",
  );
}

function remove(ctx: DvContext, entity: EntityInfo, id: string, request: DvRequest): DvResponse {
  const record = ctx.environment.records[entity.set].get(id);
  if (!record) throw notFound(entity, id);
  const ifMatch = request.headers['if-match'];
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etagOf(record)) throw versionMismatch();
  requirePrivilege(ctx.environment, ctx.user, 'Delete', entity);
  ctx.environment.records[entity.set].delete(id);
  for (const [itemId, item] of ctx.environment.records.queueitems) {
    if (item.attributes._objectid_value === id) ctx.environment.records.queueitems.delete(itemId);
  }
  return { status: 204, headers: {} };
}

/**
 * `POST $batch` (multipart/mixed): each part runs as its own request. GET parts are simulated;
 * change sets and other methods are refused loudly.
 */
async function batch(ctx: DvContext, request: DvRequest): Promise<DvResponse> {
  const contentType = request.headers['content-type'] ?? '';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!/^multipart\/mixed/i.test(contentType) || !boundary) {
    throw new DataverseError(
      400,
      '0x80060888',
      'The $batch request must have Content-Type multipart/mixed with a boundary.',
    );
  }
  const parts = request.rawBody.split(`--${boundary}`).slice(1);
  if (parts.length === 0 || !parts[parts.length - 1].startsWith('--')) {
    throw new DataverseError(
      400,
      '0x80060888',
      'The $batch request body does not end with its closing boundary.',
    );
  }
  const answer = `batchresponse_${randomUUID()}`;
  const out: string[] = [];
  for (const part of parts.slice(0, -1)) {
    const [partHeaders, inner] = splitOnce(part.replace(/^\r?\n/, ''), /\r?\n\r?\n/);
    if (/content-type:\s*multipart\/mixed/i.test(partHeaders)) {
      throw notSimulated('change sets in $batch (only GET parts are simulated)');
    }
    out.push(
      `--${answer}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n${await batchPart(ctx, inner)}`,
    );
  }
  out.push(`--${answer}--\r\n`);
  return {
    status: 200,
    headers: { 'content-type': `multipart/mixed; boundary=${answer}` },
    body: out.join('\r\n'),
  };
}

async function batchPart(ctx: DvContext, text: string): Promise<string> {
  const [head, body = ''] = splitOnce(text, /\r?\n\r?\n/);
  const [requestLine, ...headerLines] = head.split(/\r?\n/);
  const match = /^(\w+) (\S+) HTTP\/1\.1$/.exec(requestLine.trim());
  let response: DvResponse;
  if (!match) {
    response = errorResponse(
      new DataverseError(400, '0x80060888', `The batch part request line '${requestLine}' is not valid.`),
      ctx.prefer,
    );
  } else {
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const index = line.indexOf(':');
      if (index > 0) headers[line.slice(0, index).trim().toLowerCase()] = line.slice(index + 1).trim();
    }
    const url = new URL(match[2], `${ctx.environment.origin}${WEB_API}`);
    const prefer = headers.prefer ? parsePrefer(headers.prefer) : ctx.prefer;
    const inner: DvRequest = {
      method: match[1],
      segments: pathSegments(url.pathname),
      rawQuery: url.search.slice(1),
      query: Object.fromEntries(url.searchParams),
      headers,
      body: parseJsonBody(body.trim()),
      rawBody: body,
    };
    ctx.model.log({
      server: 'dataverse',
      origin: ctx.environment.origin,
      method: inner.method,
      path: url.pathname,
      query: inner.query,
      headers,
      body: inner.body,
      inBatch: true,
    });
    try {
      if (inner.method !== 'GET')
        throw notSimulated(`${inner.method} requests inside $batch (only GET parts are)`);
      response = await handle({ ...ctx, prefer }, inner, false);
    } catch (error) {
      if (!(error instanceof DataverseError)) throw error;
      response = errorResponse(error, prefer);
    }
  }
  const lines = [`HTTP/1.1 ${response.status} ${statusText(response.status)}`, 'OData-Version: 4.0'];
  for (const [name, value] of Object.entries(response.headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${response.body ?? ''}`;
}

function splitOnce(text: string, separator: RegExp): [string, string] {
  const match = separator.exec(text);
  return match ? [text.slice(0, match.index), text.slice(match.index + match[0].length)] : [text, ''];
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    200: 'OK',
    201: 'Created',
    204: 'No Content',
    304: 'Not Modified',
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    412: 'Precondition Failed',
    429: 'Too Many Requests',
    501: 'Not Implemented',
  };
  return texts[status] ?? 'Unknown';
}
