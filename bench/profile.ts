import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, round, startServer, table } from './lib.js';
import type { startPostgres } from './lib.js';
import { seedReader } from './seed.js';

/** One node of a V8 `.cpuprofile` (what `node --cpu-prof` writes). */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
  children?: number[];
}

/**
 * The layer a function belongs to, from its script's address: our folders by name, the libraries
 * by package, Node's own code as one row. Self time (samples in the function itself) is counted,
 * so the rows add up to the whole.
 */
function layerOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'V8: garbage collection';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return 'V8: compiled code, runtime';
    return 'V8: native (JSON, RegExp, crypto bindings…)';
  }
  if (url.startsWith('node:')) {
    if (/node:(_http|http|net|stream|internal\/(http|stream|net|streams|js_stream))/.test(url))
      return 'Node: HTTP, sockets, streams';
    if (/async_hooks|async_local_storage|promise_hooks/.test(url)) return 'Node: async context';
    if (/crypto/.test(url)) return 'Node: crypto';
    return 'Node: other';
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) {
    const groups: Record<string, string> = {
      '@nestjs/core': 'NestJS (router, guards, interceptors, pipes)',
      '@nestjs/common': 'NestJS (router, guards, interceptors, pipes)',
      '@nestjs/platform-fastify': 'NestJS (router, guards, interceptors, pipes)',
      rxjs: 'NestJS (router, guards, interceptors, pipes)',
      'reflect-metadata': 'NestJS (router, guards, interceptors, pipes)',
      fastify: 'Fastify',
      'find-my-way': 'Fastify',
      avvio: 'Fastify',
      'fast-json-stringify': 'Fastify',
      'fast-querystring': 'Fastify',
      '@fastify/error': 'Fastify',
      '@fastify/static': 'Fastify',
      '@fastify/middie': 'Fastify',
      'light-my-request': 'Fastify',
      'process-warning': 'Fastify',
      'fast-decode-uri-component': 'Fastify',
      jose: 'jose (token signature)',
      pg: 'pg (query)',
      'pg-protocol': 'pg (query)',
      'pg-types': 'pg (query)',
      'pg-pool': 'pg (query)',
      'postgres-date': 'pg (query)',
      'postgres-array': 'pg (query)',
      pino: 'pino (log line)',
      'fast-redact': 'pino (log line)',
      'sonic-boom': 'pino (log line)',
      'quick-format-unescaped': 'pino (log line)',
      'pino-std-serializers': 'pino (log line)',
      'fast-safe-stringify': 'pino (log line)',
      'prom-client': 'prom-client (metrics)',
      typeorm: 'TypeORM',
    };
    return groups[pkg] ?? `library: ${pkg}`;
  }
  const ours = /\/(?:dist\/)?src\/([^/]+)\//.exec(url)?.[1];
  if (ours) {
    const names: Record<string, string> = {
      logging: 'ours: logging (request logger, redaction)',
      metrics: 'ours: metrics hook',
      access: 'ours: access guard (token checks)',
      integration: 'ours: integration (controller, ETag, document)',
      settings: 'ours: settings (query, row mapping)',
      common: 'ours: common (request ids, hooks, errors)',
    };
    return names[ours] ?? `ours: ${ours}`;
  }
  if (/\/dist\/src\/app\.factory\.js/.test(url)) return 'ours: common (request ids, hooks, errors)';
  return `other: ${url.replace(/^file:\/\//, '').slice(-60)}`;
}

/** Self time per layer of one `.cpuprofile`, in percent of the non-idle samples. */
function layersOf(profile: { nodes: ProfileNode[] }): { layer: string; percent: number }[] {
  const totals = new Map<string, number>();
  let all = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const layer = layerOf(node.callFrame.url, node.callFrame.functionName);
    if (layer === '(idle)' || hits === 0) continue;
    all += hits;
    totals.set(layer, (totals.get(layer) ?? 0) + hits);
  }
  return [...totals.entries()]
    .map(([layer, hits]) => ({ layer, percent: round((100 * hits) / all, 1) }))
    .sort((a, b) => b.percent - a.percent);
}

/**
 * The read path under load with `node --cpu-prof`: where a request's CPU goes, layer by layer.
 * The profiler costs throughput itself, so this run's requests/s are not compared with anything.
 */
export async function profileReadPath(
  pg: Awaited<ReturnType<typeof startPostgres>>,
  seconds: number,
): Promise<{ layer: string; percent: number }[]> {
  const { token, env } = await seedReader(pg, 'bench_profile');
  const dir = mkdtempSync(join(tmpdir(), 'd365-profile-'));
  const port = await freePort();
  const child = await startServer(
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, 'dist/src/main.js'],
    { ...env, PORT: String(port) },
    port,
  );
  try {
    await autocannon({
      url: `${child.baseUrl}/api/v1/integrations/dynamics365`,
      connections: 16,
      duration: seconds,
      headers: { authorization: `Bearer ${token}` },
    });
  } finally {
    await child.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}:\n${child.output()}`);
  const layers = layersOf(JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] });
  rmSync(dir, { recursive: true, force: true });
  table(`Read path CPU profile (self time per layer, ${seconds} s at 16 connections)`, layers);
  return layers;
}
