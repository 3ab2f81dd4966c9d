// One environment's Omnichannel Messaging API (`https://m-<org>.<geo>.omnichannelengagementhub.com`
// in Microsoft's cloud; its own port here), as Microsoft documents it since it became generally
// available (September 2025): `channel-id` and `organization-id` headers, conversations created
// by customer id (an active one is returned again), activities posted to them (messages, typing,
// the end of the conversation, `MessageRead` and custom events), the three reads (active
// conversations, a conversation's messages, its context) with their paging, RFC 7807 problems
// with the 30001–30016 codes. The representative's side is `messaging-webhook.ts`. Anything
// else is a 501.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, jwtVerify } from 'jose';
import { headersOf } from './entra.js';
import { applyFault } from './faults.js';
import { nextMessageId } from './messaging-webhook.js';
import {
  Conversation,
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
      const create = /^\/api\/v1\.0\/consumer\/conversation\/create$/.exec(path);
      const one = /^\/api\/v1\.0\/consumer\/conversation\/([^/]+)$/.exec(path);
      const read = /^\/api\/v1\.0\/consumer\/conversation\/([^/]+)\/(messages|context)$/.exec(path);
      const query = request.query as Record<string, string | undefined>;
      let answer: unknown;
      if (request.method === 'POST' && create) answer = createConversation(messaging, channel, body(raw));
      else if (request.method === 'POST' && one) answer = postActivity(messaging, channel, one[1], body(raw));
      else if (request.method === 'GET' && path === '/api/v1.0/consumer/conversations')
        answer = listConversations(messaging, channel, query);
      else if (request.method === 'GET' && read && read[2] === 'messages')
        answer = listMessages(messaging, channel, read[1], query);
      else if (request.method === 'GET' && read) answer = conversationContext(messaging, channel, read[1]);
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
  // The generally-available names; the June 2025 preview's `x-ms-` names only when asked for.
  const prefix = environment.messaging!.preview ? 'x-ms-' : '';
  const organizationId = header(request, `${prefix}organization-id`);
  const channelId = header(request, `${prefix}channel-id`);
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
  if (start) conversation.startMessageId = nextMessageId();
  messaging.conversations.set(conversation.id, conversation);
  messaging.created += 1;
  return {
    conversationId: conversation.id,
    isNew: true,
    ...(conversation.startMessageId ? { messageId: conversation.startMessageId } : {}),
  };
}

function postActivity(
  messaging: MessagingState,
  channel: MessagingChannel,
  conversationId: string,
  activity: Record<string, unknown>,
): { messageId: string; message?: null } {
  const conversation = activeConversation(messaging, channel, conversationId);
  // "The GUID of the messaging channel. It must match the channel used in headers."
  if (
    activity.channelId !== undefined &&
    (typeof activity.channelId !== 'string' || activity.channelId.toLowerCase() !== channel.id)
  ) {
    throw new Problem(
      400,
      30002,
      "The provided channel ID isn't valid: it does not match the channel-id header.",
    );
  }
  // A read receipt is acknowledged and not kept as a message.
  if (activity.type === 'event' && activity.name === 'MessageRead') return { messageId: '', message: null };
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
  const id = nextMessageId();
  conversation.activities.push({
    seq: conversation.activities.length + 1,
    at: new Date(Number(id)).toISOString(),
    messageId: id,
    side: 'customer',
    activity,
  });
  return { messageId: id };
}

function activeConversation(
  messaging: MessagingState,
  channel: MessagingChannel,
  conversationId: string,
): Conversation {
  if (!isGuid(conversationId)) throw Problem.of(30005);
  const conversation = messaging.conversations.get(conversationId.toLowerCase());
  if (!conversation || conversation.channelId !== channel.id || !conversation.active) throw Problem.of(30013);
  return conversation;
}

/** `PageSize`: null (the default, 50) or 1…max, else the read's own code. */
function pageSize(query: Record<string, string | undefined>, max: number, code: number): number {
  const value = query.PageSize ?? query.pageSize;
  if (value === undefined || value === '') return 50;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw Problem.of(code);
  return Number(value);
}

/** An ISO 8601 date-time (`StartTimeStamp`, and the messages' continuation token), else 30006/30009. */
function timestamp(value: string | undefined, code: number): number | null {
  if (value === undefined || value === '') return null;
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
    ? Date.parse(value)
    : NaN;
  if (Number.isNaN(at)) throw Problem.of(code);
  return at;
}

/**
 * `GET /conversations`: the channel's active conversations created after `StartTimeStamp`,
 * oldest first, `PageSize` (≤ 250) at a time; the continuation token (a GUID) names the last one
 * returned — any other token is 30009.
 */
function listConversations(
  messaging: MessagingState,
  channel: MessagingChannel,
  query: Record<string, string | undefined>,
): { conversations: { conversationid: string; timestamp: string }[]; continuationtoken: string | null } {
  const size = pageSize(query, 250, 30007);
  const since = timestamp(query.StartTimeStamp ?? query.startTimeStamp, 30006);
  let active = [...messaging.conversations.values()].filter(
    (c) => c.active && c.channelId === channel.id && (since === null || Date.parse(c.createdAt) > since),
  );
  const token = query.ContinuationToken ?? query.continuationToken;
  if (token) {
    const at = active.findIndex((c) => c.id === token.toLowerCase());
    if (!isGuid(token) || at < 0) throw Problem.of(30009);
    active = active.slice(at + 1);
  }
  const page = active.slice(0, size);
  return {
    conversations: page.map((c) => ({ conversationid: c.id, timestamp: c.createdAt })),
    continuationtoken: active.length > size ? page[page.length - 1].id : null,
  };
}

/**
 * `GET …/conversation/{id}/messages`: the messages of an active conversation — the start
 * message, the customer's and the representative's, as Bot Framework activities with their
 * `messageId` and `timestamp` — sent after `StartTimeStamp`, oldest first, `PageSize` (≤ 100) at
 * a time; the continuation token is the timestamp of the last one returned. Typing and custom
 * events are not messages.
 */
function listMessages(
  messaging: MessagingState,
  channel: MessagingChannel,
  conversationId: string,
  query: Record<string, string | undefined>,
): { messages: Record<string, unknown>[]; continuationToken: string | null } {
  const conversation = activeConversation(messaging, channel, conversationId);
  const size = pageSize(query, 100, 30008);
  const since = timestamp(query.StartTimeStamp ?? query.startTimeStamp, 30006);
  const after = timestamp(query.ContinuationToken ?? query.continuationToken, 30009);
  const all: { at: string; message: Record<string, unknown> }[] = [];
  if (conversation.startMessage && conversation.startMessageId) {
    const at = new Date(Number(conversation.startMessageId)).toISOString();
    all.push({
      at,
      message: {
        type: 'message',
        attachments: [],
        text: conversation.startMessage.message,
        messageId: conversation.startMessageId,
        timestamp: at,
        from: {
          id: conversation.customerId ?? undefined,
          name: conversation.startMessage.displayname ?? undefined,
        },
        channelData: {},
      },
    });
  }
  for (const entry of conversation.activities) {
    if (entry.activity.type !== 'message') continue;
    const a = entry.activity;
    all.push({
      at: entry.at,
      message: {
        type: 'message',
        attachments: Array.isArray(a.attachments) ? a.attachments : [],
        text: typeof a.text === 'string' ? a.text : null,
        ...(typeof a.name === 'string' ? { name: a.name } : {}),
        messageId: entry.messageId,
        timestamp: entry.at,
        from: typeof a.from === 'object' && a.from !== null ? a.from : {},
        channelData: typeof a.channelData === 'object' && a.channelData !== null ? a.channelData : {},
      },
    });
  }
  // Each message's timestamp is its id's millisecond (ids strictly increase), so "after the
  // token's timestamp" neither skips nor repeats a message at a page's edge.
  const chosen = all.filter(
    (m) => (since === null || Date.parse(m.at) > since) && (after === null || Date.parse(m.at) > after),
  );
  const page = chosen.slice(0, size);
  return {
    messages: page.map((m) => m.message),
    continuationToken: chosen.length > size ? page[page.length - 1].at : null,
  };
}

/** `GET …/conversation/{id}/context`: the conversation's context variables as name/value pairs. */
function conversationContext(
  messaging: MessagingState,
  channel: MessagingChannel,
  conversationId: string,
): { context: { name: string; value: unknown }[] } {
  const conversation = activeConversation(messaging, channel, conversationId);
  return {
    context: Object.entries(conversation.context).map(([name, value]) => ({
      name,
      value: typeof value === 'object' && value !== null && 'value' in value ? value.value : value,
    })),
  };
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
