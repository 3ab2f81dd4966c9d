import http from 'node:http';
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
  startServer,
  table,
} from './lib.js';
import type { Child, startPostgres } from './lib.js';

interface LoggedCall {
  at: string;
  durationMs?: number;
  status?: number;
}

const LATENCY_MS = 50;
const MAX_CONCURRENCY = 16;
const INSTANCES = 3;
/** Per instance: three of them could put 96 calls in flight, well past Dataverse's 52. */
const HANDOFF_CONCURRENCY = 32;
const TRICKLING_ORGS = 20;

function handoff(session: string) {
  return {
    session_id: session,
    channel: 'email',
    customer: { name: 'Bench Customer', email: `${session}@bench.example` },
    classification: 'Delivery',
    summary: 'Parcel missing.',
    transcript: [{ role: 'customer', text: 'Where is my parcel?', at: '2026-11-30T09:00:00Z' }],
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(url: string, token: string, body: unknown, method = 'POST'): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const request = http.request(
      url,
      {
        method,
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/**
 * A bare client keeping `concurrency` GETs in flight against one environment for `ms`: the
 * calls a second the sandbox gives at that concurrency, the floor the bursting org is compared to.
 */
async function bareCallsPerSecond(
  origin: string,
  token: string,
  concurrency: number,
  ms: number,
): Promise<number> {
  const bare = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const end = Date.now() + ms;
  let calls = 0;
  const started = Date.now();
  const worker = async () => {
    while (Date.now() < end) {
      await new Promise<void>((resolve, reject) => {
        const request = http.request(
          `${origin}/api/data/v9.2/incidents?$top=1&$select=incidentid`,
          {
            agent: bare,
            headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'odata-version': '4.0' },
          },
          (response) => {
            response.resume();
            response.on('end', () => resolve());
          },
        );
        request.on('error', reject);
        request.end();
      });
      calls += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  bare.destroy();
  return (calls / (Date.now() - started)) * 1000;
}

/**
 * Limits and fairness (DESIGN.md §14): three instances on one database, the sandbox enforcing
 * Dataverse's service protection limits at 50 ms per call. One org bursts N handoffs while 20
 * other orgs (each its own environment) send one handoff a second.
 *  - The bursting org's Dataverse calls a second against its bound, DATAVERSE_MAX_CONCURRENCY /
 *    call latency, and against a bare client holding as many calls in flight.
 *  - 429s Dataverse answered for concurrency: none expected (3 × 32 workers could send 96).
 *  - An injected 429 with Retry-After: 5 on the bursting org's environment: calls any instance
 *    sent in the 5 s after it (after the calls already on their way when it was answered).
 *  - The trickling orgs' acceptance-to-delivery p99 against a single delivery on an idle service.
 * The sandbox's request limit (6,000 per 5 minutes) is raised: N handoffs are ~4N calls, and what
 * is measured here is the concurrency bound and the fairness, not Dataverse's request quota.
 */
export async function limitsBench(
  postgres: Awaited<ReturnType<typeof startPostgres>>,
  quick: boolean,
): Promise<BenchResult> {
  const burstCount = quick ? 600 : 3000;
  const sandbox = await startSandboxProcess();
  const url = await postgres.createDatabase('bench_limits');
  const db = new pg.Client({ connectionString: url });
  const instances: Child[] = [];
  try {
    const world = await seedSandbox(sandbox, TRICKLING_ORGS + 1);
    await sandbox.control('PUT', '/latency', {
      token_ms: 0,
      environments: Object.fromEntries(world.names.map((n) => [n, LATENCY_MS])),
    });
    for (const name of world.names) {
      // Dataverse's own concurrency limit (52) and execution-time limit; the request quota raised (above).
      await sandbox.control('PUT', `/environments/${name}/limits`, {
        concurrentRequests: 52,
        requestsPerWindow: 1e9,
        executionTimeMsPerWindow: 1_200_000 * 100,
      });
    }
    const secrets = keys();
    const env = {
      ...secrets,
      NODE_ENV: 'production',
      DATABASE_URL: url,
      MICROSOFT_LOGIN_URL: sandbox.loginUrl,
      DYNAMICS_ALLOWED_ORIGINS: world.origins.join(','),
      LOG_LEVEL: 'warn',
      REVALIDATION_CRON: 'off',
      HANDOFF_RATE_LIMIT_PER_MINUTE: '1000000',
      HANDOFF_CONCURRENCY: String(HANDOFF_CONCURRENCY),
      DATAVERSE_MAX_CONCURRENCY: String(MAX_CONCURRENCY),
    };
    for (let i = 0; i < INSTANCES; i++) {
      const port = await freePort();
      instances.push(await startServer(['dist/src/main.js'], { ...env, PORT: String(port) }, port));
    }
    const orgs = ['burst', ...Array.from({ length: TRICKLING_ORGS }, (_, i) => `trickle-${i}`)];
    const tokens = new Map<string, string>();
    for (const [i, org] of orgs.entries()) {
      const token = await signToken(secrets.AUTH_JWT_SECRET, org);
      tokens.set(org, token);
      const status = await post(
        `${instances[0].baseUrl}/api/v1/integrations/dynamics365`,
        token,
        {
          client_id: world.clientId,
          client_secret: world.secret,
          tenant_id: world.tenantId,
          environment_url: world.origins[i],
        },
        'PUT',
      );
      if (status !== 200) throw new Error(`connect ${org}: ${status}`);
    }
    await db.connect();
    const latencyOf = async (sessions: string[]) =>
      (
        await db.query<{ ms: number }>(
          `SELECT extract(epoch FROM delivered_at - created_at) * 1000 AS ms FROM handoffs
            WHERE session_id = ANY($1) AND state = 'delivered'`,
          [sessions],
        )
      ).rows.map((r) => Number(r.ms));
    const waitDelivered = async (sessions: string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM handoffs WHERE session_id = ANY($1) AND state IN ('delivered', 'failed')",
          [sessions],
        );
        if (rows[0].n >= sessions.length) return;
        if (Date.now() > deadline) throw new Error(`${rows[0].n}/${sessions.length} delivered in time`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    // 1. A single delivery on the idle service, one trickling org at a time.
    const idleSessions: string[] = [];
    for (let i = 0; i < 10; i++) {
      const session = `idle-${i}`;
      idleSessions.push(session);
      await post(
        `${instances[i % INSTANCES].baseUrl}/api/v1/handoffs`,
        tokens.get(`trickle-${i}`)!,
        handoff(session),
      );
      await waitDelivered([session], 30_000);
    }
    const idle = percentile(await latencyOf(idleSessions), 50);

    // 2. The burst, with the trickle beside it.
    await sandbox.control('DELETE', '/requests');
    await sandbox.control('PUT', `/environments/${world.names[0]}/limits`, { concurrentRequests: 52 });
    const burstSessions = Array.from({ length: burstCount }, (_, i) => `burst-${i}`);
    const trickleSessions: string[] = [];
    let trickling = true;
    const trickle = (async () => {
      for (let second = 0; trickling; second++) {
        const tick = Date.now();
        await Promise.all(
          Array.from({ length: TRICKLING_ORGS }, (_, i) => {
            const session = `trickle-${i}-${second}`;
            trickleSessions.push(session);
            return post(
              `${instances[(i + second) % INSTANCES].baseUrl}/api/v1/handoffs`,
              tokens.get(`trickle-${i}`)!,
              handoff(session),
            );
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - tick))));
      }
    })();
    let next = 0;
    const submitter = async (lane: number) => {
      while (next < burstCount) {
        const i = next++;
        const status = await post(
          `${instances[(i + lane) % INSTANCES].baseUrl}/api/v1/handoffs`,
          tokens.get('burst')!,
          handoff(burstSessions[i]),
        );
        if (status !== 202) throw new Error(`burst submit: ${status}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, lane) => submitter(lane)));
    // From here on the bursting org only has a backlog to deliver: no more of its handoffs to accept.
    const acceptedAll = Date.now();
    await waitDelivered(burstSessions, 15 * 60_000);
    trickling = false;
    await trickle;
    await waitDelivered(trickleSessions, 120_000);
    const burstCalls = await sandbox.control<LoggedCall[]>(
      'GET',
      `/requests?server=dataverse&origin=${encodeURIComponent(world.origins[0])}`,
    );
    const usage = await sandbox.control<Record<string, { throttled: number; peak_in_flight: number }>>(
      'GET',
      `/environments/${world.names[0]}/usage`,
    );
    const burstUsage = usage[world.clientId];
    const starts = burstCalls.map((c) => Date.parse(c.at));
    const ends = burstCalls.map((c) => Date.parse(c.at) + (c.durationMs ?? 0));
    const wallMs = Math.max(...ends) - Math.min(...starts);
    const callsPerS = (burstCalls.length / wallMs) * 1000;
    const bound = (MAX_CONCURRENCY / LATENCY_MS) * 1000;
    const trickleLatency = await latencyOf(trickleSessions);
    const trickleP99 = percentile(trickleLatency, 99);
    // The backlog phase: calls that started after the last burst handoff was accepted.
    const backlogCalls = burstCalls.filter((c) => Date.parse(c.at) >= acceptedAll);
    const backlogWall = Math.max(...ends) - acceptedAll;
    const backlogPerS = (backlogCalls.length / backlogWall) * 1000;
    const meanCallMs = backlogCalls.reduce((sum, c) => sum + (c.durationMs ?? 0), 0) / backlogCalls.length;
    // Little's law: calls a second × each call's time at the sandbox = calls in flight on average.
    const backlogInFlight = (backlogPerS * meanCallMs) / 1000;
    const { rows: backlogTrickle } = await db.query<{ ms: number }>(
      `SELECT extract(epoch FROM delivered_at - created_at) * 1000 AS ms FROM handoffs
        WHERE session_id = ANY($1) AND state = 'delivered' AND created_at >= $2`,
      [trickleSessions, new Date(acceptedAll)],
    );
    const backlogTrickleP99 = percentile(
      backlogTrickle.map((r) => Number(r.ms)),
      99,
    );

    // 3. A bare client at the same concurrency on a trickling org's (now idle) environment.
    const environmentToken = await bareToken(sandbox.loginUrl, world, world.origins[1]);
    const bare = await bareCallsPerSecond(
      world.origins[1],
      environmentToken,
      MAX_CONCURRENCY,
      quick ? 3000 : 10_000,
    );

    // 4. An injected 429 (Retry-After: 5) during a second, smaller burst.
    await sandbox.control('DELETE', '/requests');
    const pauseSessions = Array.from({ length: quick ? 200 : 600 }, (_, i) => `pause-${i}`);
    next = 0;
    const pauseSubmit = async (lane: number) => {
      while (next < pauseSessions.length) {
        const i = next++;
        await post(
          `${instances[(i + lane) % INSTANCES].baseUrl}/api/v1/handoffs`,
          tokens.get('burst')!,
          handoff(pauseSessions[i]),
        );
      }
    };
    const submitting = Promise.all(Array.from({ length: 16 }, (_, lane) => pauseSubmit(lane)));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await sandbox.control('PUT', `/environments/${world.names[0]}/fault`, {
      status: 429,
      retryAfter: 5,
      code: '0x80072322',
      count: 1,
    });
    await submitting;
    await waitDelivered(pauseSessions, 10 * 60_000);
    const pauseCalls = await sandbox.control<LoggedCall[]>(
      'GET',
      `/requests?server=dataverse&origin=${encodeURIComponent(world.origins[0])}`,
    );
    const refused = pauseCalls.find((c) => c.status === 429);
    const refusedAt = refused ? Date.parse(refused.at) + (refused.durationMs ?? 0) : NaN;
    // Calls already sent when the 429 was answered still arrive; the grace covers their way here.
    const graceMs = 100;
    const duringPause = pauseCalls.filter((c) => {
      const at = Date.parse(c.at);
      return at > refusedAt + graceMs && at < refusedAt + 5000;
    }).length;
    const resumedAfterMs = Math.min(
      ...pauseCalls.map((c) => Date.parse(c.at) - refusedAt).filter((d) => d > graceMs),
    );

    const throughput = round(callsPerS / bound, 3);
    const versusBare = round(callsPerS / bare, 3);
    const fairness = round(trickleP99 / idle, 2);
    const rows = [
      {
        what: `bursting org, ${burstCount} handoffs`,
        dataverse_calls: burstCalls.length,
        wall_ms: wallMs,
        calls_per_s: round(callsPerS, 1),
        bound_per_s: bound,
        bare_per_s: round(bare, 1),
        peak_in_flight: burstUsage?.peak_in_flight ?? null,
        throttled_429: burstUsage?.throttled ?? null,
      },
    ];
    table(
      `Limits: ${INSTANCES} instances × HANDOFF_CONCURRENCY ${HANDOFF_CONCURRENCY}, DATAVERSE_MAX_CONCURRENCY ${MAX_CONCURRENCY}, ${LATENCY_MS} ms per call`,
      rows,
    );
    table('Backlog phase (after the last burst handoff was accepted)', [
      {
        calls: backlogCalls.length,
        wall_ms: round(backlogWall, 0),
        calls_per_s: round(backlogPerS, 1),
        sandbox_call_ms: round(meanCallMs, 1),
        mean_in_flight: round(backlogInFlight, 2),
        trickle_p99_ms: round(backlogTrickleP99, 1),
      },
    ]);
    table('Trickling orgs (20, one handoff a second each), accepted → delivered', [
      {
        handoffs: trickleLatency.length,
        idle_single_ms: round(idle, 1),
        p50_ms: round(percentile(trickleLatency, 50), 1),
        p99_ms: round(trickleP99, 1),
        ratio: fairness,
      },
    ]);
    table('Injected 429, Retry-After: 5', [
      { calls_in_the_5_s_after: duringPause, grace_ms: graceMs, first_call_after_ms: resumedAfterMs },
    ]);
    return {
      name: 'limits',
      parameters: {
        instances: INSTANCES,
        handoff_concurrency: HANDOFF_CONCURRENCY,
        dataverse_max_concurrency: MAX_CONCURRENCY,
        upstream_latency_ms: LATENCY_MS,
        burst_handoffs: burstCount,
        trickling_orgs: TRICKLING_ORGS,
      },
      figures: {
        burst_calls: burstCalls.length,
        burst_wall_ms: wallMs,
        burst_calls_per_s: round(callsPerS, 1),
        bound_calls_per_s: bound,
        bare_calls_per_s: round(bare, 1),
        peak_in_flight: burstUsage?.peak_in_flight ?? null,
        throttled_429: burstUsage?.throttled ?? null,
        idle_delivery_ms: round(idle, 1),
        trickle_p50_ms: round(percentile(trickleLatency, 50), 1),
        trickle_p99_ms: round(trickleP99, 1),
        backlog_calls_per_s: round(backlogPerS, 1),
        backlog_sandbox_call_ms: round(meanCallMs, 1),
        backlog_mean_in_flight: round(backlogInFlight, 2),
        backlog_trickle_p99_ms: round(backlogTrickleP99, 1),
        calls_during_pause: duringPause,
        first_call_after_pause_ms: resumedAfterMs,
      },
      ratios: {
        throughput_of_bound: throughput,
        throughput_of_bare: versusBare,
        trickle_p99_of_idle: fairness,
        backlog_in_flight_of_bound: round(backlogInFlight / MAX_CONCURRENCY, 3),
        backlog_trickle_p99_of_idle: round(backlogTrickleP99 / idle, 2),
      },
      notes: [
        'Every process of the run (three instances, PostgreSQL, the sandbox, this load) shares the machine: on 2 cores the CPU is saturated while the burst is being accepted, and the sandbox answers in more than its 50 ms.',
        'The backlog-phase figures isolate the budget: calls in flight on average (Little’s law, from the sandbox’s own call times) against DATAVERSE_MAX_CONCURRENCY, and the trickling orgs’ p99 once no burst handoff is being accepted.',
      ],
      targets: [
        {
          description: `limits: bursting org's calls/s ≥ 0.9 of DATAVERSE_MAX_CONCURRENCY / latency (${throughput}; ${versusBare} of a bare client at the same concurrency; backlog phase: ${round(backlogInFlight, 1)} of ${MAX_CONCURRENCY} calls in flight)`,
          met: throughput >= 0.9,
        },
        {
          description: `limits: 429s from our own concurrency = 0 (${burstUsage?.throttled ?? '?'}; peak ${burstUsage?.peak_in_flight ?? '?'} in flight)`,
          met: burstUsage?.throttled === 0,
        },
        {
          description: `limits: no call from any instance in the 5 s after a 429 with Retry-After: 5 (${duringPause} after a ${graceMs} ms grace; first after ${resumedAfterMs} ms)`,
          met: duringPause === 0 && resumedAfterMs >= 5000 - graceMs,
        },
        {
          description: `limits: trickling orgs' p99 accepted → delivered ≤ 3 × an idle delivery (${fairness} × ${round(idle, 1)} ms; backlog phase: ${round(backlogTrickleP99 / idle, 2)} ×)`,
          met: fairness <= 3,
        },
      ],
    };
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    await db.end().catch(() => undefined);
    agent.destroy();
    await sandbox.stop();
  }
}
