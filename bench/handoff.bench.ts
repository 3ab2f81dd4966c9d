import { randomUUID } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';
import pg from 'pg';
import {
  bareToken,
  BenchResult,
  freePort,
  keys,
  percentile,
  round,
  seedSandbox,
  signToken,
  startSandboxProcess,
  residentMb,
  startServer,
  table,
} from './lib.js';
import type { startPostgres } from './lib.js';

interface LoggedCall {
  at: string;
  durationMs?: number;
  method: string;
  status?: number;
}

const transcript = Array.from({ length: 10 }, (_, i) => ({
  role: i % 2 ? 'ai' : 'customer',
  text: `Message ${i}: ${'lorem ipsum dolor sit amet '.repeat(6)}`,
  at: '2026-11-30T09:00:00Z',
}));

function handoff(session: string) {
  return {
    session_id: session,
    channel: 'email',
    customer: { name: 'Bench Customer', email: `${session}@bench.example` },
    classification: 'Delivery',
    summary: 'Parcel missing.',
    transcript,
  };
}

/** Wall time of a run, as the sandbox saw it: first call received to last call answered. */
function wallOf(calls: LoggedCall[]): number {
  const starts = calls.map((c) => Date.parse(c.at));
  const ends = calls.map((c) => Date.parse(c.at) + (c.durationMs ?? 0));
  return Math.max(...ends) - Math.min(...starts);
}

/**
 * The same four Dataverse calls per handoff the service makes (contact lookup, contact create,
 * case create with its ticket number back, transcript note), by a bare client at the same
 * concurrency on keep-alive sockets: the floor the service is compared to.
 */
async function bareDeliveries(
  origin: string,
  token: string,
  count: number,
  concurrency: number,
): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = http.request(
        `${origin}/api/data/v9.2${path}`,
        {
          method,
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            'odata-version': '4.0',
            'odata-maxversion': '4.0',
            ...(payload ? { 'content-type': 'application/json; charset=utf-8' } : {}),
            ...headers,
          },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const session = `bare-${i}`;
      const email = `${session}@bench.example`;
      const contactId = randomUUID();
      const incidentId = randomUUID();
      await send(
        'GET',
        `/contacts?$select=contactid,description&$filter=${encodeURIComponent(`emailaddress1 eq '${email}' and statecode eq 0`)}&$orderby=${encodeURIComponent('createdon asc')}&$top=1`,
      );
      await send(
        'PATCH',
        `/contacts(${contactId})`,
        {
          firstname: 'Bench',
          lastname: 'Customer',
          emailaddress1: email,
          description: `Created from chat session ${session}`,
        },
        { 'if-none-match': '*' },
      );
      await send(
        'PATCH',
        `/incidents(${incidentId})?$select=incidentid,ticketnumber`,
        {
          title: 'Delivery - Bench Customer',
          description: transcript.map((t) => t.text).join('\n'),
          prioritycode: 2,
          caseorigincode: 2,
          'customerid_contact@odata.bind': `/contacts(${contactId})`,
        },
        { 'if-none-match': '*', prefer: 'return=representation' },
      );
      await send(
        'PATCH',
        `/annotations(${randomUUID()})`,
        {
          subject: 'Conversation transcript',
          notetext: transcript.map((t) => t.text).join('\n'),
          'objectid_incident@odata.bind': `/incidents(${incidentId})`,
        },
        { 'if-none-match': '*' },
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
}

/**
 * Handoff delivery efficiency: N handoffs delivered by one service instance (50 ms per
 * sandbox call, HANDOFF_CONCURRENCY 16) against a bare client making the same calls at the same
 * concurrency, in the same run; and accepted handoffs per second on POST /api/v1/handoffs (on
 * an API-only instance, HANDOFF_CONCURRENCY=0, so deliveries do not share the CPU).
 */
export async function handoffBench(
  postgres: Awaited<ReturnType<typeof startPostgres>>,
  quick: boolean,
): Promise<BenchResult> {
  const count = quick ? 400 : 2000;
  const latencyMs = 50;
  const concurrency = 16;
  const connections = 16;
  const sandbox = await startSandboxProcess();
  const url = await postgres.createDatabase('bench_handoff');
  const db = new pg.Client({ connectionString: url });
  try {
    const world = await seedSandbox(sandbox, 2);
    await sandbox.control('PUT', '/latency', {
      token_ms: latencyMs,
      environments: { [world.names[0]]: latencyMs, [world.names[1]]: latencyMs },
    });
    const secrets = keys();
    const env = {
      ...secrets,
      NODE_ENV: 'production',
      DATABASE_URL: url,
      MICROSOFT_LOGIN_URL: sandbox.loginUrl,
      DYNAMICS_ALLOWED_ORIGINS: world.origins.join(','),
      LOG_LEVEL: 'warn',
      REVALIDATION_CRON: 'off',
      // One org submits 2,000 handoffs as fast as it can: the per-org limit is not what is measured.
      HANDOFF_RATE_LIMIT_PER_MINUTE: '1000000',
    };
    const token = await signToken(secrets.AUTH_JWT_SECRET, 'bench-org');

    // 1. Accepting: an API-only instance.
    const apiPort = await freePort();
    const api = await startServer(
      ['dist/src/main.js'],
      { ...env, PORT: String(apiPort), HANDOFF_CONCURRENCY: '0' },
      apiPort,
    );
    let accept;
    try {
      const connected = await fetch(`${api.baseUrl}/api/v1/integrations/dynamics365`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: world.clientId,
          client_secret: world.secret,
          tenant_id: world.tenantId,
          environment_url: world.origins[0],
        }),
      });
      if (connected.status !== 200) throw new Error(`connect: ${connected.status} ${await connected.text()}`);
      let counter = 0;
      const result = await autocannon({
        url: `${api.baseUrl}/api/v1/handoffs`,
        connections,
        amount: count,
        requests: [
          {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            setupRequest: (request) => ({ ...request, body: JSON.stringify(handoff(`svc-${counter++}`)) }),
          },
        ],
      });
      accept = {
        handoffs: count,
        accepted_per_s: round(count / (result.duration || 1), 0),
        p50_ms: result.latency.p50,
        p99_ms: result.latency.p99,
        non_2xx: result.non2xx,
      };
    } finally {
      await api.stop();
    }
    table(`Accepting: POST /api/v1/handoffs, ${connections} connections, API-only instance`, [accept]);

    // 2. Delivering: one worker instance takes the queued handoffs.
    await db.connect();
    await sandbox.control('DELETE', '/requests');
    const workerPort = await freePort();
    const worker = await startServer(
      ['dist/src/main.js'],
      { ...env, PORT: String(workerPort), HANDOFF_CONCURRENCY: String(concurrency) },
      workerPort,
    );
    const deadline = Date.now() + 15 * 60_000;
    let counts: Record<string, number> = {};
    let workerRss: number | null = null;
    try {
      for (;;) {
        const rows = await db.query<{ state: string; n: number }>(
          'SELECT state, count(*)::int AS n FROM handoffs GROUP BY 1',
        );
        counts = Object.fromEntries(rows.rows.map((r) => [r.state, r.n]));
        if ((counts.delivered ?? 0) + (counts.failed ?? 0) >= count) break;
        if (Date.now() > deadline) throw new Error(`not delivered in time: ${JSON.stringify(counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      workerRss = residentMb(worker);
    } finally {
      await worker.stop();
    }
    console.log(`resident memory of the delivering instance after ${count} handoffs: ${workerRss} MB`);
    const serviceCalls = await sandbox.control<LoggedCall[]>(
      'GET',
      `/requests?server=dataverse&origin=${encodeURIComponent(world.origins[0])}`,
    );
    const attempts = await db.query<{ attempts: number }>('SELECT attempts FROM handoffs');

    // 3. The bare client, same calls, same concurrency, the other environment.
    await sandbox.control('DELETE', '/requests');
    const environmentToken = await bareToken(sandbox.loginUrl, world, world.origins[1]);
    await bareDeliveries(world.origins[1], environmentToken, count, concurrency);
    const bareCalls = await sandbox.control<LoggedCall[]>(
      'GET',
      `/requests?server=dataverse&origin=${encodeURIComponent(world.origins[1])}`,
    );

    const serviceWall = wallOf(serviceCalls);
    const bareWall = wallOf(bareCalls);
    const efficiency = round(bareWall / serviceWall, 3);
    const perHandoff = serviceCalls.length / count;
    const delivery = [
      {
        client: 'service',
        handoffs: counts.delivered ?? 0,
        failed: counts.failed ?? 0,
        dataverse_calls: serviceCalls.length,
        wall_ms: serviceWall,
        handoffs_per_s: round((count / serviceWall) * 1000, 1),
        max_attempts: Math.max(...attempts.rows.map((r) => r.attempts)),
      },
      {
        client: 'bare',
        handoffs: count,
        failed: 0,
        dataverse_calls: bareCalls.length,
        wall_ms: bareWall,
        handoffs_per_s: round((count / bareWall) * 1000, 1),
        max_attempts: 1,
      },
    ];
    table(
      `Delivering ${count} handoffs, ${latencyMs} ms per sandbox call, concurrency ${concurrency}`,
      delivery,
    );
    console.log(`efficiency (bare time / service time): ${efficiency}`);
    const callTimes = serviceCalls.map((c) => c.durationMs ?? 0);
    return {
      name: 'handoff_delivery',
      parameters: {
        handoffs: count,
        upstream_latency_ms: latencyMs,
        handoff_concurrency: concurrency,
        accept_connections: connections,
        transcript_entries: transcript.length,
      },
      figures: {
        accepted_per_s: accept.accepted_per_s,
        accept_p50_ms: accept.p50_ms,
        accept_p99_ms: accept.p99_ms,
        accept_non_2xx: accept.non_2xx,
        service_delivered: counts.delivered ?? 0,
        service_failed: counts.failed ?? 0,
        service_wall_ms: serviceWall,
        service_dataverse_calls_per_handoff: round(perHandoff, 2),
        service_sandbox_call_p50_ms: percentile(callTimes, 50),
        bare_wall_ms: bareWall,
        worker_resident_mb: workerRss,
      },
      ratios: { delivery_efficiency: efficiency },
      targets: [
        {
          description: `handoff delivery: bare time / service time ≥ 0.9 (${efficiency})`,
          met: efficiency >= 0.9,
        },
        {
          description: `resident memory of the delivering instance after the benchmark ≤ 300 MB (${workerRss} MB)`,
          met: workerRss === null ? null : workerRss <= 300,
        },
        {
          description: `all ${count} delivered, none twice`,
          met: counts.delivered === count && perHandoff === 4,
        },
      ],
    };
  } finally {
    await db.end().catch(() => undefined);
    await sandbox.stop();
  }
}
