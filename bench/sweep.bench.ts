import { spawn } from 'node:child_process';
import http from 'node:http';
import { requiredPrivileges } from '../src/microsoft/dynamics-client/handoff-privileges.js';
import { BenchResult, keys, ROOT, round, seedSandbox, startSandboxProcess, table } from './lib.js';
import type { startPostgres } from './lib.js';
import { migrateAndSeedOrgs } from './seed.js';

const WORKER = `
const root = process.env.BENCH_ROOT;
const { NestFactory } = await import(root + '/node_modules/@nestjs/core/index.js');
const pino = (await import(root + '/node_modules/pino/pino.js')).default;
const { loadConfig } = await import(root + '/dist/src/config/app-config.js');
const { RevalidationCliModule } = await import(root + '/dist/src/revalidation/revalidation-cli.module.js');
const { RevalidationService } = await import(root + '/dist/src/revalidation/revalidation.service.js');
const config = loadConfig(process.env);
const context = await NestFactory.createApplicationContext(
  RevalidationCliModule.forRoot(config, process.env.DATABASE_URL, pino.destination('/dev/null')), { logger: false });
const service = context.get(RevalidationService);
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(process.env.START_AT) - Date.now())));
const startedAt = Date.now();
const cpu = process.cpuUsage();
const summary = await service.sweep('manual');
const used = process.cpuUsage(cpu);
const finishedAt = Date.now();
await context.close();
console.log(JSON.stringify({ summary, startedAt, finishedAt, cpu_ms: (used.user + used.system) / 1000 }));
`;

interface WorkerResult {
  summary: { checked: number; ok: number; errors: number };
  startedAt: number;
  finishedAt: number;
  cpu_ms: number;
}

function runWorker(env: Record<string, string>, startAt: number): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []),
        '--input-type=module',
        '-e',
        WORKER,
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', BENCH_ROOT: ROOT, START_AT: String(startAt), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`sweep worker failed (${code}):\n${err}\n${out}`));
      else resolve(JSON.parse(line) as WorkerResult);
    });
  });
}

/**
 * The calls a verification makes — the client-credentials token request, the Dataverse probe with
 * that token, then readiness's two (WhoAmI, the user's privileges by name) — for `count` orgs by a
 * bare client at the same concurrency on keep-alive sockets, as the service's Microsoft client
 * uses: the floor the sweep is compared to.
 */
async function bareSweep(
  world: { tenantId: string; clientId: string; secret: string; origins: string[] },
  loginUrl: string,
  count: number,
  concurrency: number,
): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency * 2 });
  const send = (url: string, options: http.RequestOptions, body?: string) =>
    new Promise<string>((resolve, reject) => {
      const request = http.request(url, { ...options, agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(Buffer.concat(chunks).toString('utf8'))
            : reject(new Error(`${url}: ${response.statusCode}`)),
        );
      });
      request.on('error', reject);
      request.end(body);
    });
  // Org i is in environment i mod n, as the seeded orgs are.
  const form = (origin: string) =>
    new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: world.clientId,
      client_secret: world.secret,
      scope: `${origin}/.default`,
    }).toString();
  const privileges = encodeURIComponent(
    JSON.stringify(
      requiredPrivileges({ default_owner_id: false, default_queue_id: false }).map((n) => n.privilege.name),
    ),
  );
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const origin = world.origins[next++ % world.origins.length];
      const { access_token: token } = JSON.parse(
        await send(
          `${loginUrl}/${encodeURIComponent(world.tenantId)}/oauth2/v2.0/token`,
          { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
          form(origin),
        ),
      ) as { access_token: string };
      const headers = {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        'odata-version': '4.0',
        'odata-maxversion': '4.0',
      };
      const api = `${origin}/api/data/v9.2`;
      await send(`${api}/incidents?$top=1&$select=incidentid`, { headers });
      const { UserId: userId } = JSON.parse(await send(`${api}/WhoAmI`, { headers })) as { UserId: string };
      await send(
        `${api}/systemusers(${userId})/Microsoft.Dynamics.CRM.RetrieveUserSetOfPrivilegesByNames(PrivilegeNames=@p1)?@p1=${privileges}`,
        { headers },
      );
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return performance.now() - started;
}

const ENVIRONMENTS = 40;

/**
 * Sweep efficiency: N orgs behind 50 ms per upstream call, one instance, then two, against a bare
 * client making the same calls at the same total concurrency (and the ideal, latency alone).
 */
export async function sweepBench(
  pg: Awaited<ReturnType<typeof startPostgres>>,
  quick: boolean,
): Promise<BenchResult> {
  const orgCount = quick ? 320 : 2000;
  const latencyMs = 50;
  const concurrency = 16;
  const sandbox = await startSandboxProcess();
  try {
    // Each org's own environment, as in production (a few dozen here, orgs spread over them): the
    // call budget is per environment, so a thousand orgs in one would measure the budget instead.
    const world = await seedSandbox(sandbox, ENVIRONMENTS);
    await sandbox.control('PUT', '/latency', {
      token_ms: latencyMs,
      environments: Object.fromEntries(world.names.map((name) => [name, latencyMs])),
    });
    const secrets = keys();
    const url = await pg.createDatabase('bench_sweep');
    await migrateAndSeedOrgs(url, secrets, orgCount, { ...world });
    const env = {
      ...secrets,
      NODE_ENV: 'production',
      DATABASE_URL: url,
      DB_SKIP_MIGRATIONS: 'true',
      MICROSOFT_LOGIN_URL: sandbox.loginUrl,
      DYNAMICS_ALLOWED_ORIGINS: world.origins.join(','),
      REVALIDATION_CONCURRENCY: String(concurrency),
      LOG_LEVEL: 'warn',
    };
    // Token, probe, WhoAmI, privileges: four calls in a row.
    const perVerification = 4 * latencyMs;

    const bareOne = await bareSweep(world, sandbox.loginUrl, orgCount, concurrency);
    const bareTwo = await bareSweep(world, sandbox.loginUrl, orgCount, concurrency * 2);
    const one = await runWorker(env, Date.now() + 500);
    const startAt = Date.now() + 1500;
    const two = await Promise.all([runWorker(env, startAt), runWorker(env, startAt)]);

    const rows = [
      { instances: 1, results: [one] },
      { instances: 2, results: two },
    ].map(({ instances, results }) => {
      const wall =
        Math.max(...results.map((r) => r.finishedAt)) - Math.min(...results.map((r) => r.startedAt));
      const checked = results.reduce((s, r) => s + r.summary.checked, 0);
      const ideal = (orgCount * perVerification) / (concurrency * instances);
      const bare = instances === 1 ? bareOne : bareTwo;
      return {
        instances,
        checked,
        errors: results.reduce((s, r) => s + r.summary.errors, 0),
        wall_ms: wall,
        bare_client_ms: round(bare, 0),
        ideal_ms: round(ideal, 0),
        efficiency: round(bare / wall, 3),
        of_ideal: round(ideal / wall, 3),
        cpu_ms_per_verification: round(results.reduce((s, r) => s + r.cpu_ms, 0) / checked, 3),
      };
    });
    table(
      `Sweep efficiency (${orgCount} orgs, ${latencyMs} ms per upstream call, concurrency ${concurrency} per instance)`,
      rows,
    );
    return {
      name: 'sweep_efficiency',
      parameters: { orgs: orgCount, upstream_latency_ms: latencyMs, concurrency_per_instance: concurrency },
      figures: Object.fromEntries(
        rows.flatMap((r) => Object.entries(r).map(([k, v]) => [`${r.instances}_instance_${k}`, v])),
      ),
      ratios: { efficiency_1_instance: rows[0].efficiency, efficiency_2_instances: rows[1].efficiency },
      targets: rows.map((r) => ({
        description: `nightly sweep, ${r.instances} instance(s): bare client time / service time ≥ 0.95 (${r.efficiency}; ${r.of_ideal} of the ideal)`,
        met: r.efficiency >= 0.95,
      })),
    };
  } finally {
    await sandbox.stop();
  }
}
