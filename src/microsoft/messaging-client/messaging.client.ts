// The Omnichannel Messaging API (Microsoft's documented service-to-service way to start a chat
// conversation). Ours rather than an SDK's: there is no Microsoft client for it in Node, and every
// answer must map to a stage, an outcome and the API's own 300xx code, with no hidden retries (the
// handoff queue retries; a conversation is created by customer id, so a retry finds the same one).
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { parseJson } from '../json.js';
import { NO_RETRY, UpstreamHttp } from '../upstream-http.js';
import { retryAfterMs, UpstreamFailure, UpstreamStage, UpstreamTransportError } from '../upstream.js';

const BASE_PATH = '/api/v1.0/consumer';

/** Who calls: the endpoint, the channel and organization, and a token for the messaging scope. */
export interface MessagingCall {
  endpoint: string;
  channelId: string;
  organizationId: string;
  accessToken: string;
}

interface ProblemBody {
  title?: string;
  detail?: string;
  status?: number;
  errorCode?: number | string;
  code?: number | string;
}

@Injectable()
export class MessagingClient {
  constructor(
    private readonly config: AppConfig,
    private readonly http: UpstreamHttp,
  ) {}

  /** `POST …/conversation/create`: the active conversation of the customer id, or a new one. */
  async createConversation(
    call: MessagingCall,
    body: Record<string, unknown>,
  ): Promise<{ conversationId: string; isNew: boolean }> {
    const answer = await this.send(call, 'conversation_create', '/conversation/create', body);
    const conversationId = answer.conversationId;
    if (typeof conversationId !== 'string') {
      throw new UpstreamFailure(
        'conversation_create',
        'unreachable',
        200,
        null,
        'The Messaging API answered without a conversationId.',
        0,
      );
    }
    return { conversationId, isNew: answer.isNew === true };
  }

  /** `POST …/conversation/{id}`: a Bot Framework activity (message, typing, endOfConversation). */
  async sendActivity(
    call: MessagingCall,
    conversationId: string,
    activity: Record<string, unknown>,
  ): Promise<void> {
    await this.send(call, 'message_send', `/conversation/${encodeURIComponent(conversationId)}`, activity);
  }

  /**
   * `GET …/conversation/{id}/messages`: a page (≤ 100) of the conversation's messages sent after
   * `since`, oldest first — the catch-up path when webhook calls were missed. Microsoft's
   * continuation token (a timestamp) is passed back as given.
   */
  async readMessages(
    call: MessagingCall,
    conversationId: string,
    page: { since?: Date; continuationToken?: string; pageSize: number },
  ): Promise<{ messages: Record<string, unknown>[]; continuationToken: string | null }> {
    const query = new URLSearchParams({ PageSize: String(page.pageSize) });
    if (page.since) query.set('StartTimeStamp', page.since.toISOString());
    if (page.continuationToken) query.set('ContinuationToken', page.continuationToken);
    const answer = await this.send(
      call,
      'messages_read',
      `/conversation/${encodeURIComponent(conversationId)}/messages?${query.toString()}`,
      undefined,
    );
    const messages = Array.isArray(answer.messages)
      ? answer.messages.filter(
          (m): m is Record<string, unknown> => typeof m === 'object' && m !== null && !Array.isArray(m),
        )
      : [];
    // Microsoft's page names it `continuationToken`; its conversations page, `continuationtoken`.
    const token = answer.continuationToken ?? answer.continuationtoken;
    return { messages, continuationToken: typeof token === 'string' && token !== '' ? token : null };
  }

  /** `GET …/conversations` (one page of the channel's active conversations): proves the app may read the channel. */
  async listConversations(call: MessagingCall, pageSize: number): Promise<{ count: number }> {
    const answer = await this.send(
      call,
      'conversations_read',
      `/conversations?PageSize=${pageSize}`,
      undefined,
    );
    return { count: Array.isArray(answer.conversations) ? answer.conversations.length : 0 };
  }

  private async send(
    call: MessagingCall,
    stage: UpstreamStage,
    path: string,
    body: unknown,
  ): Promise<Record<string, unknown>> {
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    let response;
    try {
      response = await this.http.send({
        url: `${call.endpoint}${BASE_PATH}${path}`,
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          authorization: `Bearer ${call.accessToken}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
          // The generally-available names (the June 2025 preview read `x-ms-channel-id` and
          // `x-ms-organization-id`; the API has been generally available since September 2025).
          'channel-id': call.channelId,
          'organization-id': call.organizationId,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.config.upstreamTimeoutMs,
        retry: NO_RETRY,
      });
    } catch (error) {
      if (error instanceof UpstreamTransportError) {
        const outcome = error.kind === 'dns_not_found' ? 'rejected' : 'unreachable';
        throw new UpstreamFailure(
          stage,
          outcome,
          null,
          null,
          `Omnichannel Messaging API: ${error.message}.`,
          elapsed(),
        );
      }
      throw error;
    }
    if (response.status >= 200 && response.status < 300) {
      return parseJson<Record<string, unknown>>(response.body) ?? {};
    }
    const problem = parseJson<ProblemBody>(response.body);
    const code = problemCode(problem);
    const definite =
      response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
    throw new UpstreamFailure(
      stage,
      definite ? 'rejected' : 'unreachable',
      response.status,
      code,
      problem?.detail ?? problem?.title ?? `The Omnichannel Messaging API answered HTTP ${response.status}.`,
      elapsed(),
      response.headers.get('x-ms-correlation-id'),
      retryAfterMs(response.headers.get('retry-after')),
    );
  }
}

/**
 * The API's 300xx code. Microsoft documents the codes but not the member that carries them in
 * the RFC 7807 body: `errorCode`, `code`, or the code written in the title or detail are read.
 */
function problemCode(problem: ProblemBody | undefined): string | null {
  for (const value of [problem?.errorCode, problem?.code]) {
    if (value !== undefined && /^\d{5}$/.test(String(value))) return String(value);
  }
  const written = /\b(300(?:0[1-9]|1[0-6]))\b/.exec(`${problem?.title ?? ''} ${problem?.detail ?? ''}`);
  return written?.[1] ?? null;
}
