import autocannon from 'autocannon';
import { BenchResult, freePort, round, startServer, table } from './lib.js';
import type { startPostgres } from './lib.js';
import { profileReadPath } from './profile.js';
import { seedReader } from './seed.js';

type Server = 'floor: Fastify constant' | 'floor: Nest constant' | 'baseline' | 'service';

interface Run {
  server: Server;
  connections: number;
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
}

const SERVERS: Record<Server, { args: string[]; path: string }> = {
  'floor: Fastify constant': { args: ['bench/floor-fastify.mjs'], path: '/constant' },
  'floor: Nest constant': { args: ['bench/floor-nest.mjs'], path: '/constant' },
  baseline: { args: ['bench/baseline-server.mjs'], path: '/api/v1/integrations/dynamics365' },
  service: { args: ['dist/src/main.js'], path: '/api/v1/integrations/dynamics365' },
};

async function load(
  url: string,
  token: string,
  connections: number,
  seconds: number,
): Promise<Omit<Run, 'server' | 'connections'>> {
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

/**
 * GET status through the service versus a bare Fastify + pg + jose server doing the same work, at 16
 * and 64 connections, in interleaved rounds; and the floor under both: Fastify answering a constant
 * versus Nest on Fastify answering a constant. Then a CPU profile of the service under the same load.
 */
export async function readPathBench(
  pg: Awaited<ReturnType<typeof startPostgres>>,
  quick: boolean,
): Promise<BenchResult> {
  const connectionCounts = [16, 64];
  const seconds = quick ? 3 : 8;
  const rounds = quick ? 1 : 3;
  const { token, env } = await seedReader(pg, 'bench_read');

  const runs: Run[] = [];
  for (let round_ = 0; round_ < rounds; round_++) {
    for (const server of Object.keys(SERVERS) as Server[]) {
      const port = await freePort();
      const child = await startServer(SERVERS[server].args, { ...env, PORT: String(port) }, port);
      try {
        const path = `${child.baseUrl}${SERVERS[server].path}`;
        await load(path, token, 16, 1); // warm-up
        for (const connections of connectionCounts)
          runs.push({ server, connections, ...(await load(path, token, connections, seconds)) });
      } finally {
        await child.stop();
      }
    }
  }
  table(
    `Read path: GET /api/v1/integrations/dynamics365, ${seconds} s per run, ${rounds} interleaved round(s)`,
    runs,
  );
  const median = (server: Server, connections: number, key: 'requests_per_s' | 'p50_ms' | 'p99_ms') => {
    const values = runs
      .filter((r) => r.server === server && r.connections === connections)
      .map((r) => r[key])
      .sort((a, b) => a - b);
    return values[Math.floor((values.length - 1) / 2)];
  };
  const figures: BenchResult['figures'] = {};
  const ratios: BenchResult['ratios'] = {};
  for (const c of connectionCounts) {
    for (const server of Object.keys(SERVERS) as Server[]) {
      const key = server.replace(/\W+/g, '_').replace(/_+$/, '').toLowerCase();
      figures[`${key}_c${c}_requests_per_s`] = median(server, c, 'requests_per_s');
      figures[`${key}_c${c}_p50_ms`] = median(server, c, 'p50_ms');
      figures[`${key}_c${c}_p99_ms`] = median(server, c, 'p99_ms');
    }
    ratios[`service_over_baseline_c${c}`] = round(
      median('service', c, 'requests_per_s') / median('baseline', c, 'requests_per_s'),
      3,
    );
    ratios[`nest_floor_over_fastify_floor_c${c}`] = round(
      median('floor: Nest constant', c, 'requests_per_s') /
        median('floor: Fastify constant', c, 'requests_per_s'),
      3,
    );
  }
  figures.non_2xx = runs.reduce((s, r) => s + r.non_2xx, 0);
  for (const [name, value] of Object.entries(ratios)) console.log(`${name}: ${value}`);
  const layers = await profileReadPath(pg, quick ? 4 : 10);
  return {
    name: 'read_path_overhead',
    parameters: {
      connections: connectionCounts,
      seconds_per_run: seconds,
      rounds,
      service_log_level: 'info (JSON, one line per request)',
    },
    figures,
    ratios,
    targets: connectionCounts.map((c) => ({
      description: `read path at ${c} connections: service ≥ 0.85 × baseline requests/s (${ratios[`service_over_baseline_c${c}`]})`,
      met: (ratios[`service_over_baseline_c${c}`] ?? 0) >= 0.85,
    })),
    notes: [
      `CPU profile of the service, self time per layer: ${layers.map((l) => `${l.layer} ${l.percent}%`).join('; ')}`,
    ],
  };
}
