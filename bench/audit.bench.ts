import { DataSource } from 'typeorm';
import { AuditChainKeys } from '../src/audit/audit-chain-keys.js';
import { AuditExpectations } from '../src/audit/audit-expectations.js';
import { AuditChainService } from '../src/audit/audit-chain.service.js';
import { AuditRepository } from '../src/audit/audit.repository.js';
import { AuditService } from '../src/audit/audit.service.js';
import { loadConfig } from '../src/config/app-config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import {
  BenchResult,
  freePort,
  httpRequest,
  keys,
  percentile,
  residentMb,
  round,
  signToken,
  startServer,
  table,
} from './lib.js';
import type { startPostgres } from './lib.js';
import { migrateAndSeedOrgs } from './seed.js';

/**
 * Generates a valid chain for one org inside PostgreSQL, hashed by the service's own audit_event_hash();
 * the service's own sealing (AuditChainService.sealLegacyChains) then gives every event and head its MAC.
 */
const GENERATOR = `
CREATE OR REPLACE FUNCTION bench_generate_chain(p_org text, p_count int, p_start timestamptz) RETURNS void AS $$
DECLARE prev text := NULL; h text; eid bigint; at timestamptz; act text; atype text; aid text; aname text; d jsonb;
BEGIN
  FOR i IN 0..p_count - 1 LOOP
    eid := nextval('audit_events_id_seq');
    at := p_start + make_interval(secs => i);
    act := (ARRAY['integration.saved','integration.saved','integration.saved','integration.status_changed','integration.save_rejected'])[i % 5 + 1];
    IF i % 7 = 0 THEN atype := 'system'; aid := NULL; aname := NULL;
    ELSE atype := 'user'; aid := 'actor-' || (i % 20); aname := 'Actor ' || (i % 20); END IF;
    d := jsonb_build_object('n', i, 'changed_fields', jsonb_build_array('default_priority'), 'secret_rotated', false);
    h := audit_event_hash(prev, eid, p_org, at, act, atype, aid, aname, 'req-' || i, '203.0.113.7', 'bench/1.0', d, NULL);
    INSERT INTO audit_events (id, org_id, occurred_at, action, actor_type, actor_id, actor_name, request_id, ip, user_agent, details, prev_hash, hash)
      VALUES (eid, p_org, at, act, atype, aid, aname, 'req-' || i, '203.0.113.7', 'bench/1.0', d, prev, h);
    prev := h;
  END LOOP;
  INSERT INTO audit_chain_heads VALUES (p_org, eid, prev, p_count);
END $$ LANGUAGE plpgsql`;

/** The audit log at a million events: page latency, chain verification rate, append rate. */
export async function auditBench(
  pg: Awaited<ReturnType<typeof startPostgres>>,
  quick: boolean,
): Promise<BenchResult> {
  const bigCount = quick ? 100_000 : 1_000_000;
  const others = 100;
  const perOther = quick ? 100 : 500;
  const samples = quick ? 60 : 300;
  const secrets = keys();
  const url = await pg.createDatabase('bench_audit');
  await migrateAndSeedOrgs(url, secrets, 0, { clientId: '', secret: 'x', tenantId: '', origins: [] });
  const dataSource = new DataSource(dataSourceOptions(url));
  await dataSource.initialize();
  try {
    const start = new Date(Date.UTC(2025, 0, 1));
    const generated = performance.now();
    await dataSource.query(GENERATOR);
    for (let o = 0; o < others; o++)
      await dataSource.query('SELECT bench_generate_chain($1, $2, $3)', [`other-${o}`, perOther, start]);
    const [{ first }] = await dataSource.query<{ first: string }[]>(
      'SELECT (last_value + 1)::text AS first FROM audit_events_id_seq',
    );
    const bigFirstId = Number(first);
    await dataSource.query('SELECT bench_generate_chain($1, $2, $3)', ['big', bigCount, start]);
    const sealing = await new AuditChainService(
      new AuditRepository(dataSource),
      new AuditChainKeys(loadConfig({ ...secrets, NODE_ENV: 'test' })),
      new AuditExpectations(),
    ).sealLegacyChains();
    if (sealing.refused.length > 0) throw new Error(`chains not sealed: ${sealing.refused.join(', ')}`);
    await dataSource.query('VACUUM ANALYZE audit_events');
    const generateSeconds = round((performance.now() - generated) / 1000, 1);

    const port = await freePort();
    const service = await startServer(
      ['dist/src/main.js'],
      {
        ...secrets,
        DATABASE_URL: url,
        DB_SKIP_MIGRATIONS: 'true',
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        PORT: String(port),
        REVALIDATION_CRON: 'off',
      },
      port,
    );
    try {
      const token = await signToken(secrets.AUTH_JWT_SECRET, 'big');
      const get = async (path: string) => {
        const { status, text } = await httpRequest(`${service.baseUrl}${path}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (status !== 200) throw new Error(`${path}: ${status} ${text}`);
        return text;
      };
      const middle = bigFirstId + Math.floor(bigCount / 2);
      // A cursor as the API makes it: the id of the last event seen and the listing's filters.
      const cursor = (f: object) =>
        Buffer.from(JSON.stringify({ v: 2, id: String(middle), f }), 'utf8').toString('base64url');
      const windowStart = new Date(start.getTime() + Math.floor(bigCount / 2) * 1000).toISOString();
      const windowEnd = new Date(start.getTime() + (Math.floor(bigCount / 2) + 3600) * 1000).toISOString();
      const scenarios: [string, string][] = [
        ['first page', '/api/v1/audit-events?limit=50'],
        ['first page, action filter', '/api/v1/audit-events?limit=50&action=integration.status_changed'],
        ['first page, actor filter', '/api/v1/audit-events?limit=50&actor_id=actor-7'],
        [
          '1-hour window in the middle',
          `/api/v1/audit-events?limit=50&since=${windowStart}&until=${windowEnd}`,
        ],
        ['deep page (middle)', `/api/v1/audit-events?limit=50&cursor=${cursor({})}`],
        [
          'deep page, action filter',
          `/api/v1/audit-events?limit=50&cursor=${cursor({ action: ['integration.save_rejected'] })}`,
        ],
        [
          'deep page, actor filter',
          `/api/v1/audit-events?limit=50&cursor=${cursor({ actor_id: 'actor-3' })}`,
        ],
      ];
      const pageRows = [];
      for (const [label, path] of scenarios) {
        for (let i = 0; i < 10; i++) await get(path);
        const times: number[] = [];
        for (let i = 0; i < samples; i++) {
          const t0 = performance.now();
          await get(path);
          times.push(performance.now() - t0);
        }
        pageRows.push({
          scenario: label,
          p50_ms: round(percentile(times, 50)),
          p99_ms: round(percentile(times, 99)),
        });
      }
      // The floor on this machine: the bare Fastify + pg + jose server answering one indexed query
      // (the status read) with the same client, as many times, on the same database.
      const floorPort = await freePort();
      const floor = await startServer(
        ['bench/baseline-server.mjs'],
        { ...secrets, DATABASE_URL: url, PORT: String(floorPort) },
        floorPort,
      );
      const floorTimes: number[] = [];
      try {
        for (let i = 0; i < samples + 10; i++) {
          const t0 = performance.now();
          await httpRequest(`${floor.baseUrl}/api/v1/integrations/dynamics365`, {
            headers: { authorization: `Bearer ${token}` },
          });
          if (i >= 10) floorTimes.push(performance.now() - t0);
        }
      } finally {
        await floor.stop();
      }
      const floorRow = {
        scenario: 'floor: bare server, token check + one indexed query',
        p50_ms: round(percentile(floorTimes, 50)),
        p99_ms: round(percentile(floorTimes, 99)),
      };
      table(
        `Audit log pages at ${bigCount.toLocaleString('en-US')} events for one org (+${others} orgs × ${perOther}), ${samples} sequential requests each`,
        [...pageRows, floorRow],
      );

      const verifyStarted = performance.now();
      const verified = JSON.parse(await get('/api/v1/audit-events/verify')) as {
        ok: boolean;
        checked: number;
      };
      const verifySeconds = (performance.now() - verifyStarted) / 1000;
      const serviceRss = residentMb(service);
      if (!verified.ok || verified.checked !== bigCount)
        throw new Error(`chain verification failed: ${JSON.stringify(verified)}`);
      const verifyRate = round(verified.checked / verifySeconds, 0);

      const audit = new AuditService(
        new AuditRepository(dataSource),
        new AuditChainKeys(loadConfig({ ...secrets, NODE_ENV: 'test' })),
      );
      const appendFor = async (orgOf: (writer: number) => string, seconds: number) => {
        let count = 0;
        const deadline = performance.now() + seconds * 1000;
        await Promise.all(
          Array.from({ length: 4 }, async (_, writer) => {
            while (performance.now() < deadline) {
              await dataSource.transaction((m) =>
                audit.record(
                  m,
                  orgOf(writer),
                  'integration.status_changed',
                  {
                    actor: { type: 'system', id: null, name: null },
                    requestId: null,
                    clientRequestId: null,
                    ip: null,
                    userAgent: null,
                  },
                  { writer },
                ),
              );
              count++;
            }
          }),
        );
        return round(count / seconds, 0);
      };
      const appendSeconds = quick ? 2 : 5;
      const appendSameOrg = await appendFor(() => 'big', appendSeconds);
      const appendFourOrgs = await appendFor((w) => `writer-${w}`, appendSeconds);
      table('Audit chain', [
        { figure: 'chain verification (events/s)', value: verifyRate },
        { figure: 'append, 4 writers, one org (events/s)', value: appendSameOrg },
        { figure: 'append, 4 writers, 4 orgs (events/s)', value: appendFourOrgs },
      ]);
      const worstP99 = Math.max(...pageRows.map((r) => r.p99_ms));
      return {
        name: 'audit_log_at_scale',
        parameters: {
          events_one_org: bigCount,
          other_orgs: others,
          events_per_other_org: perOther,
          samples_per_scenario: samples,
          generate_seconds: generateSeconds,
        },
        figures: {
          ...Object.fromEntries(
            pageRows.flatMap((r) => [
              [`${r.scenario} p50_ms`, r.p50_ms],
              [`${r.scenario} p99_ms`, r.p99_ms],
            ]),
          ),
          verify_events_per_s: verifyRate,
          verify_seconds: round(verifySeconds, 2),
          append_same_org_events_per_s: appendSameOrg,
          append_four_orgs_events_per_s: appendFourOrgs,
          service_resident_mb: serviceRss,
          floor_p50_ms: floorRow.p50_ms,
          floor_p99_ms: floorRow.p99_ms,
        },
        ratios: {
          worst_page_p99_over_target: round(worstP99 / 5, 2),
          verify_rate_over_target: round(verifyRate / 500_000, 2),
        },
        targets: [
          {
            description: `audit page at ${bigCount.toLocaleString('en-US')} events: p99 ≤ 5 ms in every scenario (worst ${worstP99} ms; bare server ${floorRow.p99_ms} ms)`,
            met: worstP99 <= 5,
          },
          {
            description: `chain verification ≥ 500,000 events/s (${verifyRate.toLocaleString('en-US')})`,
            met: verifyRate >= 500_000,
          },
          {
            description: `resident memory of the instance after the audit benchmark ≤ 300 MB (${serviceRss} MB)`,
            met: serviceRss === null ? null : serviceRss <= 300,
          },
        ],
      };
    } finally {
      await service.stop();
    }
  } finally {
    await dataSource.destroy();
  }
}
