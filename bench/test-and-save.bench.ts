import {
  BenchResult,
  freePort,
  httpRequest,
  keys,
  percentile,
  round,
  seedSandbox,
  signToken,
  startSandboxProcess,
  startServer,
  table,
} from './lib.js';
import type { startPostgres } from './lib.js';
import { migrateAndSeedOrgs } from './seed.js';

/**
 * Orgs the saves take turns on: each org saves a few times in the run, well inside the default
 * VERIFY_RATE_LIMIT_PER_MINUTE (10), as admins do. (One org saving hundreds of times a minute
 * under a raised limit measured the limiter's window of thousands of attempts instead.)
 */
const ORGS = 50;

/** PUT latency minus the time the sandbox spent answering its two calls. */
export async function testAndSaveBench(
  pg: Awaited<ReturnType<typeof startPostgres>>,
  quick: boolean,
): Promise<BenchResult> {
  const saves = quick ? 100 : 400;
  const sandbox = await startSandboxProcess();
  const secrets = keys();
  const url = await pg.createDatabase('bench_save');
  try {
    const world = await seedSandbox(sandbox, 1);
    await migrateAndSeedOrgs(url, secrets, 0, { ...world });
    const port = await freePort();
    const service = await startServer(
      ['dist/src/main.js'],
      {
        ...secrets,
        DATABASE_URL: url,
        DB_SKIP_MIGRATIONS: 'true',
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        PORT: String(port),
        MICROSOFT_LOGIN_URL: sandbox.loginUrl,
        DYNAMICS_ALLOWED_ORIGINS: world.origins.join(','),
        REVALIDATION_CRON: 'off',
        // Each certificate org also makes its certificate (counted with its verifications).
        VERIFY_RATE_LIMIT_PER_MINUTE: '20',
      },
      port,
    );
    try {
      const tokens = await Promise.all(
        Array.from({ length: ORGS }, (_, i) => signToken(secrets.AUTH_JWT_SECRET, `saver-${i}`)),
      );
      // As many orgs again connect with a certificate (#29): made by the service, uploaded to the app.
      const certificateTokens = await Promise.all(
        Array.from({ length: ORGS }, (_, i) => signToken(secrets.AUTH_JWT_SECRET, `certificate-saver-${i}`)),
      );
      const certificateIds: string[] = [];
      for (const token of certificateTokens) {
        const created = await httpRequest(`${service.baseUrl}/api/v1/integrations/dynamics365/certificate`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: '{}',
        });
        const certificate = JSON.parse(created.text) as { certificate_id: string; certificate_pem: string };
        await sandbox.control('POST', `/tenants/${world.tenantId}/apps/${world.clientId}/certificates`, {
          certificate: certificate.certificate_pem,
        });
        certificateIds.push(certificate.certificate_id);
      }
      const body = (i: number, certificate: boolean) =>
        JSON.stringify({
          client_id: world.clientId,
          ...(certificate ? { certificate_id: certificateIds[i % ORGS] } : { client_secret: world.secret }),
          tenant_id: world.tenantId,
          environment_url: world.origins[0],
          default_priority: (i % 4) + 1,
        });
      const put = (i: number, certificate = false) =>
        httpRequest(`${service.baseUrl}/api/v1/integrations/dynamics365`, {
          method: 'PUT',
          headers: {
            authorization: `Bearer ${(certificate ? certificateTokens : tokens)[i % ORGS]}`,
            'content-type': 'application/json',
          },
          body: body(i, certificate),
        });
      // Warm-up: each org's first save creates its row.
      for (let i = 0; i < ORGS; i++) {
        await put(i);
        await put(i, true);
      }
      await sandbox.control('DELETE', '/requests');
      const totals: number[] = [];
      for (let i = 0; i < saves; i++) {
        const started = performance.now();
        const response = await put(i);
        totals.push(performance.now() - started);
        if (response.status !== 200) throw new Error(`save ${i} answered ${response.status}`);
      }
      const log = await sandbox.control<{ server: string; path: string; at: string; durationMs: number }[]>(
        'GET',
        '/requests',
      );
      // Per save: the token exchange and the probe, then readiness's two calls (WhoAmI, the privileges).
      const CALLS = 4;
      if (log.length !== CALLS * saves)
        throw new Error(`expected ${CALLS * saves} sandbox requests, got ${log.length}`);
      const calls = totals.map((_, i) => log.slice(CALLS * i, CALLS * i + CALLS));
      const upstream = calls.map((c) => c.reduce((sum, r) => sum + r.durationMs, 0));
      const overhead = totals.map((total, i) => total - upstream[i]);
      const end = (r: { at: string; durationMs: number }) => Date.parse(r.at) + r.durationMs;
      // What readiness adds to a save: from the probe's answer to the privileges' answer.
      const readinessWall = calls.map((c) => end(c[3]) - end(c[1]));
      const readinessSandbox = calls.map((c) => c[2].durationMs + c[3].durationMs);
      const row = {
        saves,
        total_p50_ms: round(percentile(totals, 50)),
        total_p99_ms: round(percentile(totals, 99)),
        sandbox_p50_ms: round(percentile(upstream, 50)),
        overhead_p50_ms: round(percentile(overhead, 50)),
        overhead_p99_ms: round(percentile(overhead, 99)),
        readiness_added_p50_ms: round(percentile(readinessWall, 50)),
        readiness_added_p99_ms: round(percentile(readinessWall, 99)),
        readiness_sandbox_p50_ms: round(percentile(readinessSandbox, 50)),
      };
      // The same saves with a certificate: the client assertion signed (PS256) instead of a secret sent.
      await sandbox.control('DELETE', '/requests');
      const certificateTotals: number[] = [];
      for (let i = 0; i < saves; i++) {
        const started = performance.now();
        const response = await put(i, true);
        certificateTotals.push(performance.now() - started);
        if (response.status !== 200) throw new Error(`certificate save ${i} answered ${response.status}`);
      }
      const certificateLog = await sandbox.control<{ durationMs: number }[]>('GET', '/requests');
      if (certificateLog.length !== CALLS * saves)
        throw new Error(`expected ${CALLS * saves} sandbox requests, got ${certificateLog.length}`);
      const certificateOverhead = certificateTotals.map(
        (total, i) =>
          total -
          certificateLog.slice(CALLS * i, CALLS * i + CALLS).reduce((sum, r) => sum + r.durationMs, 0),
      );
      const certificateRow = {
        credential: 'certificate',
        total_p50_ms: round(percentile(certificateTotals, 50)),
        overhead_p50_ms: round(percentile(certificateOverhead, 50)),
        overhead_p99_ms: round(percentile(certificateOverhead, 99)),
      };
      const certificateAdds = round(certificateRow.overhead_p50_ms - row.overhead_p50_ms);
      table(
        'Test & Save overhead (PUT latency minus the sandbox’s own time for its four calls: token, probe, WhoAmI, privileges)',
        [row],
      );
      table('Test & Save with a certificate instead of a secret (same saves, same orgs’ turns)', [
        {
          credential: 'client_secret',
          total_p50_ms: row.total_p50_ms,
          overhead_p50_ms: row.overhead_p50_ms,
          overhead_p99_ms: row.overhead_p99_ms,
        },
        certificateRow,
      ]);
      return {
        name: 'test_and_save_overhead',
        parameters: { saves, orgs: ORGS, sequential: true, sandbox_latency_ms: 0 },
        figures: {
          ...row,
          certificate_overhead_p50_ms: certificateRow.overhead_p50_ms,
          certificate_overhead_p99_ms: certificateRow.overhead_p99_ms,
          certificate_adds_p50_ms: certificateAdds,
        },
        ratios: {
          overhead_share_of_total_p50: round(row.overhead_p50_ms / row.total_p50_ms, 3),
          certificate_total_vs_secret_p50: round(certificateRow.total_p50_ms / row.total_p50_ms, 3),
        },
        targets: [
          {
            description: `Test & Save overhead (service minus sandbox time): p99 ≤ 5 ms (${row.overhead_p99_ms} ms)`,
            met: row.overhead_p99_ms <= 5,
          },
          {
            description: `readiness adds at most two calls to a save (${CALLS - 2})`,
            met: CALLS - 2 <= 2,
          },
        ],
        notes: [
          'Overhead includes four loopback HTTP round trips to the sandbox, the database transaction (row + audit chain append) and request handling.',
          `A certificate instead of a secret adds ${certificateAdds} ms at p50 (the client assertion's PS256 signature with an RSA 2048 key, and parsing the key and certificate, per token exchange).`,
          `Readiness adds its two calls after the probe: ${row.readiness_added_p50_ms} ms at p50 (${row.readiness_sandbox_p50_ms} ms of it the sandbox's own time), measured from the probe's answer to the last readiness answer in the sandbox's log (1 ms resolution).`,
        ],
      };
    } finally {
      await service.stop();
    }
  } finally {
    await sandbox.stop();
  }
}
