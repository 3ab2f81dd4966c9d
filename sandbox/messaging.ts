// One environment's Omnichannel Messaging API (`https://m-<org>.<geo>.omnichannelengagementhub.com`
// in Microsoft's cloud; its own port here), as Microsoft documents it: conversations created by
// customer id (an active one is returned again), activities posted to them, RFC 7807 problems
// with the 30001–30016 codes, and the representative's side — replies, events and the end of the
// conversation — posted to the channel's webhook with a signed token. Anything else is a 501.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, jwtVerify, SignJWT } from 'jose';
import { headersOf } from './entra.js';
import { applyFault } from './faults.js';
import {
  Conversation,
  ConversationActivity,
  Environment,
  isGuid,
  MessagingChannel,
  MessagingState,
  SandboxModel,
} from './model.js';
import type { SigningKey } from './signing.js';

/** The Messaging API's documented errors (Microsoft: "Error handling in messaging APIs"). */
const MESSAGING_ERRORS: Record<number, { status: number; message: string }> = {
  30001: { status: 400, message: "The provided organization ID isn't valid." },
  30002: { status: 400, message: "The provided channel ID isn't valid." },
  30003: { status: 400, message: 'The requested operation is invalid or not supported.' },
  30004: { status: 404, message: "The specified channel configuration doesn't exist." },
  30005: { status: 400, message: "The provided conversation ID isn't valid." },
  30006: { status: 400, message: "The provided timestamp isn't valid." },
  30007: {
    status: 400,
    message: 'The page size for conversations must either be null or between 1 and 250.',
  },
  30008: { status: 400, message: 'The page size for messages must either be null or between 1 and 100.' },
  30009: {
    status: 400,
    message: 'The provided continuation token is invalid. Use the same token as before.',
  },
  30010: {
    status: 400,
    message: 'The conversation context size is too large. Maximum allowed is 100 entries.',
  },
  30011: { status: 400, message: 'The message text length is too large. Max 6,000 characters allowed.' },
  30012: { status: 400, message: 'The request body was either not provided or is malformed.' },
  30013: { status: 404, message: "The specified conversation doesn't exist." },
  30014: { status: 400, message: "The specified channel configuration isn't linked to a workstream." },
  30015: {
    status: 500,
    message: "The response body wasn't serialized successfully. Contact customer support for help.",
  },
  30016: { status: 400, message: 'The message activity has no text or attachments.' },
};

const START_MESSAGE_LIMIT = 27 * 1024;
const MESSAGE_LIMIT = 6000;
const CONTEXT_LIMIT = 100;
const FIELD_LIMIT = 200;
/** Event names a representative's side sends (the webhook page's list). */
/** What a representative's side sends: Microsoft's current names, and those of its samples and the preview. */
const REPRESENTATIVE_EVENTS = [
  'AgentEndSession',
  'PrimaryAgentEndConversation',
  'ConversationClose',
  'SupervisorForceClosedConversation',
  'CustomerDisconnected',
  'AgentAccepted',
  'AgentClosed',
  'AgentDisconnected',
  'AgentEndedSession',
  'AgentJoinedConversation',
  'AgentTransferAcceptedSession',
  'AgentTransferFailed',
  'ConversationClosed',
  'OutOfOperatingHoursDueToHoliday',
  'OutOfOperatingHoursDueToNonWorkingHours',
  'QueueTransferFailed',
];

class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: number | null,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  static of(code: number): Problem {
    return new Problem(MESSAGING_ERRORS[code].status, code, MESSAGING_ERRORS[code].message);
  }
}

export function registerMessaging(
  app: FastifyInstance,
  model: SandboxModel,
  key: SigningKey,
  environmentName: string,
): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.all('/*', async (request, reply) => {
    const environment = model.environment(environmentName);
    const messaging = environment.messaging!;
    const path = request.url.split('?')[0];
    const started = performance.now();
    const raw = typeof request.body === 'string' ? request.body : '';
    const logged = model.log({
      server: 'messaging',
      origin: messaging.origin,
      method: request.method,
      path,
      query: request.query as Record<string, string>,
      headers: headersOf(request),
      body: parse(raw),
    });
    reply.raw.once('finish', () => {
      logged.status = reply.statusCode;
      logged.durationMs = Math.round((performance.now() - started) * 100) / 100;
    });
    void reply.header('x-ms-correlation-id', randomUUID());

    const fault = SandboxModel.takeFault(environment, 'messagingFault', { method: request.method, path });
    if (fault) {
      if ((await applyFault(fault, request, reply)) === 'connection-closed') return reply;
      if (fault.status) {
        const code = fault.code && /^\d+$/.test(fault.code) ? Number(fault.code) : null;
        return problem(
          reply,
          new Problem(
            fault.status,
            code,
            fault.message ??
              (code ? MESSAGING_ERRORS[code]?.message : undefined) ??
              'The omnichannel service is temporarily unavailable.',
            fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {},
          ),
        );
      }
    }

    try {
      const channel = await authenticate(request, environment, key);
      if (environment.latencyMs > 0)
        await new Promise((resolve) => setTimeout(resolve, environment.latencyMs));
      const create = /^\/api\/v1\.0\/consumer\/conversations?\/create$/.exec(path);
      const post = /^\/api\/v1\.0\/consumer\/conversation\/([^/]+)$/.exec(path);
      let answer: unknown;
      if (request.method === 'POST' && create) answer = createConversation(messaging, channel, body(raw));
      else if (request.method === 'POST' && post)
        answer = postActivity(messaging, channel, post[1], body(raw));
      else throw notSimulated(request.method, path);
      if (fault?.resetAfterProcessing) {
        request.raw.socket.destroy();
        reply.hijack();
        return reply;
      }
      return reply.status(200).type('application/json; charset=utf-8').send(JSON.stringify(answer));
    } catch (error) {
      if (error instanceof Problem) return problem(reply, error);
      throw error;
    }
  });
}

/** The bearer token: signed by the tenant's keys, for this environment's Messaging API resource. */
async function authenticate(
  request: FastifyRequest,
  environment: Environment,
  key: SigningKey,
): Promise<MessagingChannel> {
  const unauthorized = (detail: string) => new Problem(401, null, detail);
  const match = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '');
  if (!match) throw unauthorized('The authorization header is missing or is not a bearer token.');
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(match[1], key.publicKey, { algorithms: ['RS256'] }));
  } catch (error) {
    if (error instanceof errors.JOSEError) throw unauthorized('The token is expired or invalid.');
    throw error;
  }
  const audience = typeof payload.aud === 'string' ? payload.aud.replace(/\/+$/, '').toLowerCase() : '';
  if (audience !== environment.messagingResource || payload.tid !== environment.tenantId) {
    throw unauthorized('The token is not for this organization.');
  }
  // Microsoft's pages name these headers both ways (`x-ms-channel-id` and `channel-id`): either is taken.
  const organizationId = header(request, 'x-ms-organization-id') ?? header(request, 'organization-id');
  const channelId = header(request, 'x-ms-channel-id') ?? header(request, 'channel-id');
  if (!organizationId || organizationId.toLowerCase() !== environment.organizationId) throw Problem.of(30001);
  if (!channelId || !isGuid(channelId)) throw Problem.of(30002);
  const channel = environment.messaging!.channels.get(channelId.toLowerCase());
  if (!channel) throw Problem.of(30004);
  const appId =
    typeof payload.appid === 'string' ? payload.appid : typeof payload.azp === 'string' ? payload.azp : '';
  if (appId.toLowerCase() !== channel.appId) {
    throw unauthorized("The channel ID isn't authorized for the organization.");
  }
  return channel;
}

function createConversation(
  messaging: MessagingState,
  channel: MessagingChannel,
  input: Record<string, unknown>,
): { conversationId: string; isNew: boolean; messageId?: string } {
  if (!channel.workstreamLinked) throw Problem.of(30014);
  const customer = objectOr(input.customercontext) ?? {};
  for (const [field, value] of Object.entries(customer)) {
    if (typeof value !== 'string' || value.length > FIELD_LIMIT) {
      throw new Problem(
        400,
        30003,
        `customercontext.${field} must be a string of at most ${FIELD_LIMIT} characters.`,
      );
    }
  }
  const context = objectOr(input.conversationcontext) ?? {};
  if (Object.keys(context).length > CONTEXT_LIMIT) throw Problem.of(30010);
  const start = input.startmessage === undefined ? null : objectOr(input.startmessage);
  if (input.startmessage !== undefined && (!start || typeof start.message !== 'string'))
    throw Problem.of(30012);
  if (start && Buffer.byteLength(start.message as string) > START_MESSAGE_LIMIT) {
    throw new Problem(400, 30003, `startmessage.message exceeds ${START_MESSAGE_LIMIT / 1024} KB.`);
  }
  const customerId = typeof customer.customerid === 'string' ? customer.customerid : null;
  const existing = customerId
    ? [...messaging.conversations.values()].find(
        (c) => c.active && c.channelId === channel.id && c.customerId === customerId,
      )
    : undefined;
  if (existing) return { conversationId: existing.id, isNew: false };
  const conversation: Conversation = {
    id: randomUUID(),
    channelId: channel.id,
    customerId,
    customer,
    context,
    startMessage: start as Conversation['startMessage'],
    active: true,
    createdAt: new Date().toISOString(),
    activities: [],
  };
  messaging.conversations.set(conversation.id, conversation);
  messaging.created += 1;
  return { conversationId: conversation.id, isNew: true, ...(start ? { messageId: messageId() } : {}) };
}

function postActivity(
  messaging: MessagingState,
  channel: MessagingChannel,
  conversationId: string,
  activity: Record<string, unknown>,
): { messageId: string } {
  if (!isGuid(conversationId)) throw Problem.of(30005);
  const conversation = messaging.conversations.get(conversationId.toLowerCase());
  if (!conversation || conversation.channelId !== channel.id || !conversation.active) throw Problem.of(30013);
  switch (activity.type) {
    case 'message': {
      const text = activity.text;
      const attachments = Array.isArray(activity.attachments) ? activity.attachments : [];
      if ((typeof text !== 'string' || text === '') && attachments.length === 0) throw Problem.of(30016);
      if (typeof text === 'string' && text.length > MESSAGE_LIMIT) throw Problem.of(30011);
      break;
    }
    case 'typing':
      break;
    case 'endOfConversation':
      conversation.active = false;
      break;
    case 'event':
      if ((objectOr(activity.channelData) ?? {}).customEvent !== true) throw Problem.of(30003);
      break;
    default:
      throw Problem.of(30003);
  }
  conversation.activities.push({
    seq: conversation.activities.length + 1,
    at: new Date().toISOString(),
    side: 'customer',
    activity,
  });
  return { messageId: messageId() };
}

/**
 * A representative's side of a conversation: a reply, an event (AgentAccepted, ConversationClosed…)
 * or typing, posted to the channel's webhook at `{webhook}/v3/conversations/{id}/activities` with
 * the platform's token in `x-ms-token` (three tries, 10 s each, as Microsoft documents). How
 * Microsoft signs that token is not documented: here an Entra v2 app token of the tenant whose
 * audience is the channel's app.
 */
export async function representativeActivity(
  model: SandboxModel,
  key: SigningKey,
  environment: Environment,
  conversationId: string,
  input: { type: 'message' | 'typing' | 'event'; text?: string; name?: string; from?: string },
): Promise<ConversationActivity> {
  const messaging = environment.messaging!;
  const conversation = messaging.conversations.get(conversationId.toLowerCase());
  if (!conversation) throw new Error(`conversation ${conversationId} not found`);
  const channel = messaging.channels.get(conversation.channelId)!;
  if (input.name !== undefined && !REPRESENTATIVE_EVENTS.includes(input.name)) {
    throw new Error(`name must be one of ${REPRESENTATIVE_EVENTS.join(', ')}`);
  }
  const activity: Record<string, unknown> =
    input.type === 'message' && input.name
      ? // Microsoft's samples send events such as AgentAccepted and ConversationClosed as messages with a name.
        {
          type: 'message',
          channelId: channel.id,
          from: { id: randomUUID() },
          conversation: { id: conversation.id },
          text: `EventName: **_${input.name}_**`,
          name: input.name,
        }
      : {
          type: input.type,
          channelId: channel.id,
          from: { id: randomUUID(), name: input.from ?? 'Dana (Support)' },
          conversation: { id: conversation.id },
          ...(input.type === 'message' ? { textFormat: 'markdown', text: input.text ?? '' } : {}),
          ...(input.type === 'event' ? { name: input.name } : {}),
        };
  if (
    input.name === 'ConversationClosed' ||
    input.name === 'AgentClosed' ||
    input.name === 'AgentEndedSession'
  ) {
    conversation.active = false;
  }
  const entry: ConversationActivity = {
    seq: conversation.activities.length + 1,
    at: new Date().toISOString(),
    side: 'representative',
    activity,
    webhook: [],
  };
  conversation.activities.push(entry);
  if (!channel.webhookUrl) return entry;
  const token = await webhookToken(key, environment.tenantId, channel.appId);
  const url = `${channel.webhookUrl.replace(/\/+$/, '')}/v3/conversations/${conversation.id}/activities`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ms-token': token },
        body: JSON.stringify(activity),
        signal: AbortSignal.timeout(10_000),
      });
      entry.webhook!.push(response.status);
      model.log({
        server: 'messaging',
        origin: messaging.origin,
        method: 'POST',
        path: url,
        query: {},
        headers: {},
        body: activity,
        status: response.status,
      });
      if (response.ok) break;
    } catch (error) {
      entry.webhook!.push((error as Error).message);
    }
  }
  return entry;
}

/**
 * The token the platform sends to a channel's webhook (its shape is inferred: see
 * representativeActivity): an app token of the tenant for the channel's app. `caller` is the app
 * that obtained it (azp in v2, appid in v1), the channel's app unless another app of the tenant did;
 * `version: 1` gives a v1 token (sts.windows.net issuer, appid, no azp).
 */
export async function webhookToken(
  key: SigningKey,
  tenantId: string,
  appId: string,
  overrides: {
    issuer?: string;
    audience?: string;
    expiresInSeconds?: number;
    caller?: string;
    issuedAtOffsetSeconds?: number;
    version?: 1 | 2;
  } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const issuedAt = now + (overrides.issuedAtOffsetSeconds ?? 0);
  const caller = overrides.caller ?? appId;
  const v1 = overrides.version === 1;
  const claims = v1
    ? { tid: tenantId, appid: caller, ver: '1.0', idtyp: 'app' }
    : { tid: tenantId, azp: caller, appid: caller, ver: '2.0', idtyp: 'app' };
  return new SignJWT(claims)
    .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: key.kid })
    .setIssuer(
      overrides.issuer ??
        (v1 ? `https://sts.windows.net/${tenantId}/` : `https://login.microsoftonline.com/${tenantId}/v2.0`),
    )
    .setAudience(overrides.audience ?? (v1 ? `api://${appId}` : appId))
    .setSubject(caller)
    .setIssuedAt(issuedAt)
    .setNotBefore(Math.min(now, issuedAt))
    .setExpirationTime(now + (overrides.expiresInSeconds ?? 3600))
    .sign(key.privateKey);
}

function problem(reply: FastifyReply, error: Problem): FastifyReply {
  const body = {
    type: `https://httpstatuses.io/${error.status}`,
    title: TITLES[error.status] ?? 'Error',
    status: error.status,
    detail: error.message,
    ...(error.code !== null ? { errorCode: error.code } : {}),
  };
  return reply
    .status(error.status)
    .headers(error.headers)
    .type('application/problem+json; charset=utf-8')
    .send(JSON.stringify(body));
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

function notSimulated(method: string, path: string): Problem {
  return new Problem(501, null, `The sandbox does not simulate ${method} ${path} of the Messaging API.`);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function body(raw: string): Record<string, unknown> {
  const parsed = parse(raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw Problem.of(30012);
  return parsed as Record<string, unknown>;
}

function parse(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function objectOr(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** A 13-digit epoch-milliseconds string, as Microsoft's messageId. */
function messageId(): string {
  return String(Date.now());
}
