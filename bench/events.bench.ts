import http from 'node:http';
import { webhookToken } from '../sandbox/messaging-webhook.js';
import { startSandbox } from '../sandbox/server.js';
import { BenchResult, freePort, keys, percentile, round, signToken, startServer, table } from './lib.js';
import type { startPostgres } from './lib.js';

const CHANNEL = '0e5f6a7b-1c2d-4e3f-8a9b-0c1d2e3f4a5b';

interface Stream {
  request: http.ClientRequest;
  /** Event id → when it arrived. */
  arrivals: Map<string, number>;
}

/**
 * SSE fan-out: N conversation handoffs, one open event stream each; activities posted to the
 * messaging webhook (with a valid token) at a steady rate; latency from the webhook call's start
 * to the event's arrival on its stream. Service in its own process; sandbox in this one.
 */
/** Webhook in → event out p99 (ms) with 500 streams, measured before the content de-duplication (#23). */
const P99_BEFORE_DEDUPLICATION_MS = 41;

export async function eventsBench(
  postgres: Awaited<ReturnType<typeof startPostgres>>,
  quick: boolean,
): Promise<BenchResult> {
  const streams = quick ? 100 : 500;
  const events = quick ? 100 : 400;
  const concurrency = 4;
  const sandbox = await startSandbox();
  const url = await postgres.createDatabase('bench_events');
  const agent = new http.Agent({ keepAlive: true, maxSockets: streams + 64 });
  try {
    const tenant = sandbox.model.createTenant({ name: 'Bench' });
    const app = sandbox.model.createApp(tenant.id, { name: 'Bench' });
    const secret = sandbox.model.addSecret(tenant.id, app.clientId);
    const environment = await sandbox.addEnvironment({ name: 'bench', tenantId: tenant.id });
    sandbox.model.addApplicationUser('bench', { clientId: app.clientId, privileges: 'all' });
    const secrets = keys();
    const port = await freePort();
    const service = await startServer(
      ['dist/src/main.js'],
      {
        ...secrets,
        NODE_ENV: 'production',
        DATABASE_URL: url,
        PORT: String(port),
        MICROSOFT_LOGIN_URL: sandbox.loginUrl,
        DYNAMICS_ALLOWED_ORIGINS: `${environment.origin},${environment.messaging!.origin}`,
        LOG_LEVEL: 'warn',
        REVALIDATION_CRON: 'off',
        HANDOFF_CONCURRENCY: '16',
        // One host platform token holds every stream here (one per conversation).
        EVENT_STREAMS_PER_TOKEN: String(streams + 10),
        HANDOFF_RATE_LIMIT_PER_MINUTE: '100000',
        // …and every connection comes from one address.
        HTTP_MAX_CONNECTIONS_PER_CLIENT: String(streams + 100),
      },
      port,
    );
    environment.messaging!.channels.set(CHANNEL, {
      id: CHANNEL,
      appId: app.clientId,
      webhookUrl: null,
      workstreamLinked: true,
    });
    try {
      const token = await signToken(secrets.AUTH_JWT_SECRET, 'bench');
      const api = (method: string, path: string, body?: unknown) =>
        fetch(`${service.baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const connected = await api('PUT', '/api/v1/integrations/dynamics365', {
        client_id: app.clientId,
        client_secret: secret.value,
        tenant_id: tenant.id,
        environment_url: environment.origin,
        messaging_endpoint: environment.messaging!.origin,
        messaging_channel_id: CHANNEL,
        messaging_organization_id: environment.organizationId,
        messaging_scope: `${environment.messagingResource}/.default`,
      });
      if (connected.status !== 200) throw new Error(`connect: ${connected.status} ${await connected.text()}`);
      for (let i = 0; i < streams; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, streams - i) }, (_, k) =>
            api('POST', '/api/v1/handoffs', { session_id: `fan-${i + k}`, channel: 'web' }),
          ),
        );
      }
      const conversations: string[] = [];
      for (let i = 0; i < streams; i++) {
        for (;;) {
          const doc = (await (await api('GET', `/api/v1/handoffs/fan-${i}`)).json()) as {
            state: string;
            dynamics: { conversation_id: string | null };
          };
          if (doc.state === 'delivered') {
            conversations.push(doc.dynamics.conversation_id!);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }

      const open: Stream[] = await Promise.all(
        conversations.map(
          (_, i) =>
            new Promise<Stream>((resolve, reject) => {
              const stream: Stream = {
                request: undefined as unknown as http.ClientRequest,
                arrivals: new Map(),
              };
              stream.request = http.get(
                `${service.baseUrl}/api/v1/handoffs/fan-${i}/events`,
                { agent, headers: { authorization: `Bearer ${token}` } },
                (response) => {
                  if (response.statusCode !== 200) reject(new Error(`stream ${i}: ${response.statusCode}`));
                  let buffer = '';
                  response.setEncoding('utf8');
                  response.on('data', (chunk: string) => {
                    const now = performance.now();
                    buffer += chunk;
                    let cut: number;
                    while ((cut = buffer.indexOf('\n\n')) >= 0) {
                      const frame = buffer.slice(0, cut);
                      buffer = buffer.slice(cut + 2);
                      const text = /^data: (.*)$/m.exec(frame)?.[1];
                      if (text)
                        stream.arrivals.set((JSON.parse(text) as { data: { text: string } }).data.text, now);
                    }
                  });
                  resolve(stream);
                },
              );
              stream.request.on('error', reject);
            }),
        ),
      );

      const msToken = await webhookToken(sandbox.key, tenant.id, app.clientId);
      const sent = new Map<string, { stream: number; at: number }>();
      let next = 0;
      const started = performance.now();
      const worker = async () => {
        while (next < events) {
          const n = next++;
          const target = n % streams;
          const marker = `event-${n}`;
          sent.set(marker, { stream: target, at: performance.now() });
          const response = await fetch(
            `${service.baseUrl}/webhooks/dynamics365/messaging/bench/v3/conversations/${conversations[target]}/activities`,
            {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${msToken}` },
              // As Microsoft's generally-available webhook sends it: no activity id, so each call
              // goes through the content-and-time de-duplication.
              body: JSON.stringify({
                type: 'message',
                channelId: CHANNEL,
                text: marker,
                textFormat: 'markdown',
                from: { id: 'agent-bench', name: 'Bench' },
                conversation: { id: conversations[target] },
              }),
            },
          );
          if (response.status !== 200) throw new Error(`webhook: ${response.status}`);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const deadline = Date.now() + 30_000;
      const latencies = (): number[] =>
        [...sent].flatMap(([marker, { stream, at }]) => {
          const arrived = open[stream].arrivals.get(marker);
          return arrived === undefined ? [] : [arrived - at];
        });
      while (latencies().length < events && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const wall = performance.now() - started;
      const values = latencies();
      for (const stream of open) stream.request.destroy();
      const row = {
        open_streams: streams,
        events,
        received: values.length,
        events_per_s: round((events / wall) * 1000, 0),
        p50_ms: round(percentile(values, 50), 1),
        p99_ms: round(percentile(values, 99), 1),
        max_ms: round(Math.max(...values), 1),
      };
      table(
        `SSE fan-out: webhook in → event out, ${streams} open streams, ${concurrency} concurrent webhook calls`,
        [row],
      );
      return {
        name: 'sse_fan_out',
        parameters: { open_streams: streams, events, webhook_concurrency: concurrency },
        figures: row,
        ratios: {},
        targets: [
          { description: `every event delivered to its stream`, met: values.length === events },
          {
            // 41 ms: the p99 measured before retried activities were recognised without an id.
            description: `p99 ≤ ${P99_BEFORE_DEDUPLICATION_MS * 2} ms (2× the ${P99_BEFORE_DEDUPLICATION_MS} ms before de-duplication)`,
            met: row.p99_ms <= P99_BEFORE_DEDUPLICATION_MS * 2,
          },
        ],
      };
    } finally {
      await service.stop();
    }
  } finally {
    agent.destroy();
    await sandbox.close();
  }
}
