import type { TestApp } from './app.js';
import { call, credentialsOf, PATH } from './integration.js';
import type { MicrosoftWorld } from './microsoft.js';
import { withClient } from './database.js';
import { eventually } from './eventually.js';

export const HANDOFFS = '/api/v1/handoffs';

/** Fast retries and a short attempt timeout, so fault tests finish in seconds. */
export const HANDOFF_TEST_ENV = {
  HANDOFF_RETRY_BASE_MS: '20',
  HANDOFF_ATTEMPT_TIMEOUT: '5s',
  UPSTREAM_TIMEOUT_MS: '1500',
};

/** Connects the org (Test & Save) with the world's working app, plus any settings. */
export async function connect(
  t: TestApp,
  ms: MicrosoftWorld,
  org = 'acme',
  settings: Record<string, unknown> = {},
): Promise<void> {
  const token = await t.token({ org });
  const result = await call(t, 'PUT', PATH, token, credentialsOf(ms, settings));
  if (result.status !== 200)
    throw new Error(`connect failed: ${result.status} ${JSON.stringify(result.body)}`);
}

/** The sandbox's custom messaging channel the tests connect to. */
export const MESSAGING_CHANNEL = '0e5f6a7b-1c2d-4e3f-8a9b-0c1d2e3f4a5b';

/**
 * Connects the org with Omnichannel messaging: the sandbox's channel of the world's app (its
 * webhook the given URL, or none) and the messaging settings that point at it, which it returns.
 */
export async function connectMessaging(
  t: TestApp,
  ms: MicrosoftWorld,
  org: string,
  webhookUrl: string | null = null,
  more: Record<string, string> = {},
): Promise<Record<string, string>> {
  ms.environment.messaging!.channels.set(MESSAGING_CHANNEL, {
    id: MESSAGING_CHANNEL,
    appId: ms.app.clientId,
    webhookUrl,
    workstreamLinked: true,
  });
  const messaging = {
    messaging_endpoint: ms.environment.messaging!.origin,
    messaging_channel_id: MESSAGING_CHANNEL,
    messaging_organization_id: ms.environment.organizationId,
    messaging_scope: `${ms.environment.messagingResource}/.default`,
    ...more,
  };
  await connect(t, ms, org, messaging);
  return messaging;
}

export function handoffBody(
  session: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    session_id: session,
    channel: 'email',
    customer: { name: 'Ada Lovelace', email: `${session}@example.com` },
    classification: 'Delivery',
    sentiment: 'negative',
    summary: 'Parcel missing for 5 days.',
    transcript: [
      { role: 'customer', text: 'My parcel has not arrived.', at: '2026-11-30T09:00:00Z' },
      { role: 'ai', text: 'Let me hand you to a colleague.', at: '2026-11-30T09:00:05Z' },
    ],
    ...overrides,
  };
}

export async function submit(t: TestApp, token: string, body: unknown) {
  return call(t, 'POST', HANDOFFS, token, body);
}

/** Polls the handoff until it is in one of `states`; fails with its last document otherwise. */
export async function waitForState(
  t: TestApp,
  token: string,
  sessionId: string,
  states: string[],
  timeoutMs = 15_000,
): Promise<Record<string, any>> {
  return waitForHandoff(t, token, sessionId, `in ${states.join('/')}`, timeoutMs, (doc) =>
    states.includes(doc.state),
  );
}

/**
 * Polls until the handoff is pending after at least `attempts` attempts — a handoff is pending the
 * moment it is accepted, so "pending" alone does not say an attempt has run yet.
 */
export async function waitForAttempts(
  t: TestApp,
  token: string,
  sessionId: string,
  attempts: number,
  timeoutMs = 15_000,
): Promise<Record<string, any>> {
  return waitForHandoff(
    t,
    token,
    sessionId,
    `pending after ${attempts} attempt(s)`,
    timeoutMs,
    (doc) => doc.state === 'pending' && doc.attempts >= attempts,
  );
}

async function waitForHandoff(
  t: TestApp,
  token: string,
  sessionId: string,
  what: string,
  timeoutMs: number,
  done: (doc: Record<string, any>) => boolean,
): Promise<Record<string, any>> {
  let last: unknown;
  return eventually(
    async () => {
      const result = await call(t, 'GET', `${HANDOFFS}/${encodeURIComponent(sessionId)}`, token);
      last = result.body;
      return result.status === 200 && done(result.body) && (result.body as Record<string, any>);
    },
    `handoff ${sessionId} ${what}`,
    timeoutMs,
  ).catch(() => {
    throw new Error(`handoff ${sessionId} not ${what}: ${JSON.stringify(last)}`);
  });
}

/** The sandbox's records of one table, as the Web API's columns. */
export function records(
  ms: MicrosoftWorld,
  set: 'incidents' | 'contacts' | 'annotations' | 'queueitems',
): Record<string, any>[] {
  return [...ms.environment.records[set].values()].map((r) => ({ id: r.id, ...r.attributes }));
}

export async function handoffRow(t: TestApp, sessionId: string): Promise<Record<string, any> | undefined> {
  return withClient(t.databaseUrl, async (client) => {
    const result = await client.query('SELECT * FROM handoffs WHERE session_id = $1', [sessionId]);
    return result.rows[0] as Record<string, any> | undefined;
  });
}

export async function countRows(url: string, sql: string, values: unknown[] = []): Promise<number> {
  return withClient(url, async (client) => Number((await client.query(sql, values)).rows[0].n));
}
