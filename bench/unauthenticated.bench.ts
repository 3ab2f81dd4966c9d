import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  BenchResult,
  freePort,
  httpRequest,
  percentile,
  round,
  signToken,
  startServer,
  table,
} from './lib.js';
import type { startPostgres } from './lib.js';
import { seedReader } from './seed.js';

/** The service process's CPU time so far (user + system), in ms, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the command).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * What an unauthenticated 1 MiB body cost before the fix, reproduced here: Fastify parsed it and
 * the body check walked it, building a path for every element, before the guard answered 401.
 * (The walk as it was, kept only as this benchmark's reference.)
 */
function costBeforeTheFixMs(body: string): number {
  const walk = (root: unknown) => {
    const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: '', depth: 0 }];
    while (stack.length > 0) {
      const { value, path, depth } = stack.pop()!;
      if (value === null || typeof value !== 'object') continue;
      const entries = Array.isArray(value)
        ? value.map((item, i) => [`${path}[${i}]`, item] as const)
        : Object.entries(value).map(([key, item]) => [path ? `${path}.${key}` : key, item] as const);
      for (const [childPath, item] of entries) stack.push({ value: item, path: childPath, depth: depth + 1 });
    }
  };
  const started = process.cpuUsage();
  for (let i = 0; i < 5; i++) walk(JSON.parse(body));
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000 / 5;
}

async function liveLatencies(baseUrl: string, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await httpRequest(`${baseUrl}/health/live`);
    latencies.push(performance.now() - started);
  }
  return latencies;
}

/**
 * Nobody without a token can stall the service: CPU per unauthenticated 1 MiB `[{},{},…]` POST to
 * the handoff route (answered 401 before the body is read) against the same body with a valid
 * token (read, walked, refused by validation), and `/health/live` p99 while four clients send such
 * bodies in a loop, against idle.
 */
export async function unauthenticatedBench(
  pg: Awaited<ReturnType<typeof startPostgres>>,
  quick: boolean,
): Promise<BenchResult> {
  const { env, secrets } = await seedReader(pg, 'bench_unauth');
  const port = await freePort();
  const service = await startServer(
    ['dist/src/main.js'],
    { ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    port,
  );
  const flood = `[${'{},'.repeat(349_000)}{}]`; // 1 MiB of empty objects
  const requests = quick ? 20 : 60;
  const handoffToken = await signToken(secrets.AUTH_JWT_SECRET, 'reader-00000');
  const post = (token?: string) =>
    httpRequest(`${service.baseUrl}/api/v1/handoffs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: flood,
    });
  try {
    const pid = service.process.pid!;
    const cpuPer = async (token?: string) => {
      const before = cpuMs(pid);
      for (let i = 0; i < requests; i++) await post(token);
      return (cpuMs(pid) - before) / requests;
    };
    const statuses = new Set([(await post()).status, (await post(handoffToken)).status]);
    const unauthenticated = await cpuPer();
    const read = await cpuPer(handoffToken);
    const before = costBeforeTheFixMs(flood);

    const samples = quick ? 200 : 600;
    const idle = await liveLatencies(service.baseUrl, samples);
    // The flooders run in a process of their own, so their sending does not delay this one's timing.
    const attackers = spawn(
      process.execPath,
      [
        '-e',
        `const http = require('node:http');
         const body = '[' + '{},'.repeat(349000) + '{}]';
         const agent = new http.Agent({ keepAlive: true });
         const one = () => new Promise((done) => {
           const r = http.request(process.argv[1], { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => { res.resume(); res.on('end', done); });
           r.on('error', done);
           r.end(body);
         });
         for (let i = 0; i < 4; i++) (async () => { for (;;) await one(); })();`,
        `${service.baseUrl}/api/v1/handoffs`,
      ],
      { stdio: 'ignore' },
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const underAttack = await liveLatencies(service.baseUrl, samples);
    attackers.kill('SIGKILL');

    const idleP99 = percentile(idle, 99);
    const attackP99 = percentile(underAttack, 99);
    const rows = [
      {
        measure: 'CPU per unauthenticated 1 MiB POST before the fix (parse + per-element walk)',
        ms: round(before, 1),
      },
      { measure: 'CPU per unauthenticated 1 MiB POST (401 before reading)', ms: round(unauthenticated, 2) },
      { measure: 'CPU per authenticated 1 MiB POST (parsed, refused: not an object)', ms: round(read, 2) },
      { measure: '/health/live p50 idle', ms: round(percentile(idle, 50), 2) },
      { measure: '/health/live p99 idle', ms: round(idleP99, 2) },
      {
        measure: '/health/live p50 under 4 unauthenticated flooders',
        ms: round(percentile(underAttack, 50), 2),
      },
      { measure: '/health/live p99 under 4 unauthenticated flooders', ms: round(attackP99, 2) },
    ];
    table('Unauthenticated large bodies', rows);
    const share = unauthenticated / before;
    const slowdown = attackP99 / idleP99;
    return {
      name: 'unauthenticated',
      parameters: { body_bytes: flood.length, requests, samples, statuses: [...statuses] },
      figures: Object.fromEntries(rows.map((r) => [r.measure, r.ms])),
      ratios: { unauthenticated_vs_before_cpu: round(share, 3), live_p99_attack_vs_idle: round(slowdown, 2) },
      targets: [
        {
          description: `CPU per rejected unauthenticated 1 MiB request ${round(unauthenticated, 2)} ms = ${round(share * 100, 1)} % of the same request before the fix (${round(before, 0)} ms) ≤ 5 %`,
          met: share <= 0.05,
        },
        {
          description: `/health/live p99 under the attack ${round(attackP99, 1)} ms vs idle ${round(idleP99, 1)} ms = ${round(slowdown, 2)}× ≤ 2×`,
          met: slowdown <= 2,
        },
      ],
    };
  } finally {
    await service.stop();
  }
}
