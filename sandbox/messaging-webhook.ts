// The representative's side of an Omnichannel conversation, as Microsoft's generally-available
// Messaging API delivers it: each reply, event or typing activity posted to the channel's webhook
// at `{webhook}/v3/conversations/{id}/activities` with `Authorization: Bearer <token>` (the
// preview's `x-ms-token` when the sandbox is asked for preview behaviour), three attempts with a
// 10-second timeout each, no activity id — and kept in the conversation, where
// `GET …/conversation/{id}/messages` finds it whether the webhook took it or not.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Conversation, ConversationActivity, Environment, SandboxModel } from './model.js';
import type { SigningKey } from './signing.js';

/** What a representative's side sends: Microsoft's current names, and those of its samples and the preview. */
export const REPRESENTATIVE_EVENTS = [
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
  'TransferToQueue',
  'TransferToAgent',
];

/** The events after which the conversation is no longer active (the GA list and the samples'). */
export const ENDING_EVENTS = [
  'AgentEndSession',
  'PrimaryAgentEndConversation',
  'ConversationClose',
  'SupervisorForceClosedConversation',
  'CustomerDisconnected',
  'AgentClosed',
  'ConversationClosed',
  'AgentEndedSession',
];
const ENDING = new Set<string>(ENDING_EVENTS);

const ATTEMPTS = 3;
const TIMEOUT_MS = 10_000;

let lastMessageId = 0;

/** A 13-digit epoch-milliseconds string, as Microsoft's messageId; strictly increasing, so unique. */
export function nextMessageId(): string {
  lastMessageId = Math.max(Date.now(), lastMessageId + 1);
  return String(lastMessageId);
}

/**
 * A representative's reply, event (AgentAccepted, ConversationClose…) or typing: kept in the
 * conversation, then posted to the channel's webhook. Events go as Microsoft's samples show
 * them: `type: message` with a `name` and `text: "EventName: **_X_**"`.
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
      ? {
          type: 'message',
          channelId: channel.id,
          from: { id: representativeId(conversation) },
          conversation: { id: conversation.id },
          text: `EventName: **_${input.name}_**`,
          name: input.name,
        }
      : {
          type: input.type,
          channelId: channel.id,
          from: { id: representativeId(conversation), name: input.from ?? 'Dana (Support)' },
          conversation: { id: conversation.id },
          ...(input.type === 'message' ? { textFormat: 'markdown', text: input.text ?? '' } : {}),
          ...(input.type === 'event' ? { name: input.name } : {}),
        };
  if (input.name && ENDING.has(input.name)) conversation.active = false;
  const messageId = nextMessageId();
  const entry: ConversationActivity = {
    seq: conversation.activities.length + 1,
    // Its id's millisecond: messages are ordered and paged by timestamp.
    at: new Date(Number(messageId)).toISOString(),
    messageId,
    side: 'representative',
    activity,
    webhook: [],
  };
  conversation.activities.push(entry);
  if (channel.webhookUrl) await deliver(model, key, environment, conversation, entry);
  return entry;
}

/** One representative per conversation: the sender id is stable across its messages. */
function representativeId(conversation: Conversation): string {
  return `agent-${conversation.id.slice(0, 8)}`;
}

/** The three attempts (fewer when one is answered in time), with the fault asked for, if any. */
async function deliver(
  model: SandboxModel,
  key: SigningKey,
  environment: Environment,
  conversation: Conversation,
  entry: ConversationActivity,
): Promise<void> {
  const messaging = environment.messaging!;
  const channel = messaging.channels.get(conversation.channelId)!;
  const fault = takeWebhookFault(environment);
  const timeoutMs = messaging.webhookTimeoutMs ?? TIMEOUT_MS;
  const url = `${channel.webhookUrl!.replace(/\/+$/, '')}/v3/conversations/${conversation.id}/activities`;
  if (fault === 'down') {
    // The webhook could not be reached on any attempt: Microsoft gives up after the third.
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) entry.webhook!.push('unreachable (fault: down)');
    return;
  }
  const token = await webhookToken(key, environment.tenantId, channel.appId, {
    version: channel.webhookTokenVersion ?? 2,
    audience:
      (channel.webhookTokenVersion ?? 2) === 1
        ? (channel.webhookAudience ?? `api://${channel.appId}`)
        : undefined,
  });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (messaging.preview) headers['x-ms-token'] = token;
  else headers.authorization = `Bearer ${token}`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const started = Date.now();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(entry.activity),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer();
      model.log({
        server: 'messaging',
        origin: messaging.origin,
        method: 'POST',
        path: url,
        query: {},
        headers: {},
        body: entry.activity,
        status: response.status,
      });
      if (fault === 'late_answer' && attempt === 0) {
        // Answered, but after the timeout: Microsoft already gave up on this attempt and tries again.
        entry.webhook!.push(`timeout (answered ${response.status} too late: fault late_answer)`);
        await sleep(Math.max(0, timeoutMs - (Date.now() - started)));
        continue;
      }
      entry.webhook!.push(response.status);
      if (response.ok) return;
    } catch (error) {
      entry.webhook!.push((error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message);
    }
  }
}

function takeWebhookFault(environment: Environment): 'late_answer' | 'down' | undefined {
  const messaging = environment.messaging!;
  const fault = messaging.webhookFault;
  if (!fault) return undefined;
  const left = (fault.count ?? 1) - 1;
  messaging.webhookFault = left > 0 ? { ...fault, count: left } : undefined;
  return fault.kind;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The token the platform sends to a channel's webhook. Microsoft documents how to set it up (a
 * managed identity's federated credential on the org's app, "Expose an API"), not the token
 * itself: here an app token of the tenant obtained by the channel's app — v2 (issuer
 * `login.microsoftonline.com/{tid}/v2.0`, `azp`, audience the app's client id) or v1 (issuer
 * `sts.windows.net/{tid}/`, `appid`, audience the Application ID URI). `caller` is the app that
 * obtained it, the channel's app unless another app of the tenant did.
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
    ? { tid: tenantId, appid: caller, ver: '1.0', idtyp: 'app', uti: randomUUID() }
    : { tid: tenantId, azp: caller, appid: caller, ver: '2.0', idtyp: 'app', uti: randomUUID() };
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
