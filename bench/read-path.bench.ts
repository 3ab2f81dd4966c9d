import autocannon from 'autocannon';
import { BenchResult, freePort, keys, round, signToken, startServer, table } from './lib.js';
import type { startPostgres } from './lib.js';
import { migrateAndSeedOrgs } from './seed.js';

interface Run {
  server: 'service' | 'baseline';
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
}

async function load(
  url: string,
  token: string,
  connections: number,
  seconds: number,
): Promise<Omit<Run, 'server'>> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    requests_per_s: round(result.requests.average, 0),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
  };
}

/** GET status through the service versus a bare Fastify + pg server doing the same work. */
export async function readPathBench(
  pg: Awaited<ReturnType<typeof startPostgres>>,
  quick: boolean,
): Promise<BenchResult> {
  const connections = 16;
  const seconds = quick ? 3 : 10;
  const rounds = quick ? 1 : 2;
  const secrets = keys();
  const url = await pg.createDatabase('bench_read');
  await migrateAndSeedOrgs(
    url,
    secrets,
    1,
    {
      clientId: '11111111-1111-4111-8111-111111111111',
      secret: 'Abc8Q~bench',
      tenantId: 'contoso.onmicrosoft.com',
      origins: ['https://bench.crm.dynamics.com'],
    },
    'reader',
  );
  const token = await signToken(secrets.AUTH_JWT_SECRET, 'reader-00000');
  const env = {
    ...secrets,
    DATABASE_URL: url,
    DB_SKIP_MIGRATIONS: 'true',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REVALIDATION_CRON: 'off',
  };

  const runs: Run[] = [];
  for (let round_ = 0; round_ < rounds; round_++) {
    for (const server of ['baseline', 'service'] as const) {
      const port = await freePort();
      const child = await startServer(
        server === 'service' ? ['dist/src/main.js'] : ['bench/baseline-server.mjs'],
        { ...env, PORT: String(port) },
        port,
      );
      try {
        const path = `${child.baseUrl}/api/v1/integrations/dynamics365`;
        await load(path, token, connections, 1); // warm-up
        runs.push({ server, ...(await load(path, token, connections, seconds)) });
      } finally {
        await child.stop();
      }
    }
  }
  table(
    `Read path: GET /api/v1/integrations/dynamics365, ${connections} connections, ${seconds} s per run`,
    runs,
  );
  const median = (server: Run['server'], key: 'requests_per_s' | 'p50_ms' | 'p99_ms') => {
    const values = runs
      .filter((r) => r.server === server)
      .map((r) => r[key])
      .sort((a, b) => a - b);
    return values[Math.floor((values.length - 1) / 2)];
  };
  const ratio = round(median('service', 'requests_per_s') / median('baseline', 'requests_per_s'), 3);
  console.log(`service / baseline requests/s: ${ratio}`);
  return {
    name: 'read_path_overhead',
    parameters: { connections, seconds_per_run: seconds, rounds, service_log_level: 'info (JSON)' },
    figures: {
      service_requests_per_s: median('service', 'requests_per_s'),
      service_p50_ms: median('service', 'p50_ms'),
      service_p99_ms: median('service', 'p99_ms'),
      baseline_requests_per_s: median('baseline', 'requests_per_s'),
      baseline_p50_ms: median('baseline', 'p50_ms'),
      baseline_p99_ms: median('baseline', 'p99_ms'),
      non_2xx: runs.reduce((s, r) => s + r.non_2xx, 0),
    },
    ratios: { service_over_baseline_requests_per_s: ratio },
    targets: [{ description: 'service ≥ 0.8 × baseline requests/s', met: ratio >= 0.8 }],
  };
}
