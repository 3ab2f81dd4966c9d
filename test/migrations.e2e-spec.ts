import { readdirSync, readFileSync } from 'node:fs';
import { DataSource, getMetadataArgsStorage } from 'typeorm';
import { MIGRATIONS } from '../migrations/index.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { AuditChainHead, AuditEvent } from '../src/audit/audit-event.entity.js';
import { VerificationRateLimit } from '../src/integration/verification-rate-limit.entity.js';
import { HandoffEvent } from '../src/handoff/handoff-event.entity.js';
import { HandoffCustomerMessage } from '../src/handoff/handoff-customer-message.entity.js';
import { Handoff } from '../src/handoff/handoff.entity.js';
import { HandoffAttempt } from '../src/handoff/handoff-attempt.entity.js';
import { HandoffRateLimit } from '../src/handoff/handoff-rate-limit.entity.js';
import { ConsoleSignInCode } from '../src/access/console-sign-in-code.entity.js';
import { RevalidationRunRow } from '../src/revalidation/revalidation-run.entity.js';
import { IntegrationSettings } from '../src/settings/settings.entity.js';
import { PendingCertificate } from '../src/settings/pending-certificate.entity.js';
import { Alert } from '../src/alerts/alert.entity.js';
import { AlertDelivery } from '../src/alerts/alert-delivery.entity.js';
import { NotificationSettings } from '../src/alerts/notification-settings.entity.js';
import { DataverseCallSlot } from '../src/limits/dataverse-call-slot.entity.js';
import { DataverseEnvironmentPause } from '../src/limits/dataverse-environment-pause.entity.js';
import { startTestApp } from './support/app.js';
import { call } from './support/integration.js';
import { createTestDatabase, superuserUrlFor, withClient } from './support/database.js';

/** Every entity of the service, each registered by the module that owns its table. */
const ENTITIES = [
  IntegrationSettings,
  PendingCertificate,
  AuditEvent,
  AuditChainHead,
  RevalidationRunRow,
  VerificationRateLimit,
  Handoff,
  HandoffAttempt,
  HandoffEvent,
  HandoffRateLimit,
  ConsoleSignInCode,
  NotificationSettings,
  Alert,
  AlertDelivery,
  HandoffCustomerMessage,
  DataverseCallSlot,
  DataverseEnvironmentPause,
];

async function tables(url: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const result = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    return result.rows.map((r) => r.table_name);
  });
}

describe('migrations', () => {
  it('lists every migration file in migrations/index.ts', () => {
    const files = readdirSync(new URL('../migrations/', import.meta.url)).filter((f) =>
      /^\d+-.+\.ts$/.test(f),
    );
    expect(MIGRATIONS.map((m) => m.name).sort()).toEqual(
      files.map((f) => f.replace(/^(\d+)-(.+)\.ts$/, '$2$1')).sort(),
    );
  });

  it('the entity list above has every entity of src/', () => {
    const files = readdirSync(new URL('../src/', import.meta.url), {
      recursive: true,
      encoding: 'utf8',
    }).filter((f) => f.endsWith('.entity.ts'));
    const declared = files.flatMap((f) =>
      [
        ...readFileSync(new URL(`../src/${f}`, import.meta.url), 'utf8').matchAll(
          /@Entity\(\{ name: '(\w+)' \}\)/g,
        ),
      ].map((m) => m[1]),
    );
    const listed = getMetadataArgsStorage()
      .tables.filter((t) => (ENTITIES as unknown[]).includes(t.target))
      .map((t) => t.name);
    expect(declared.sort()).toEqual(listed.sort());
  });

  it('leave exactly the tables and columns the entities declare', async () => {
    const url = await createTestDatabase('shape');
    const dataSource = new DataSource(dataSourceOptions(url, ENTITIES));
    await dataSource.initialize();
    try {
      await dataSource.runMigrations({ transaction: 'each' });
      const columns = await dataSource.query<
        { table_name: string; column_name: string; nullable: boolean }[]
      >(
        `SELECT table_name, column_name, is_nullable = 'YES' AS nullable FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY 1, 2`,
      );
      const declared = dataSource.entityMetadatas
        .flatMap((m) =>
          m.columns.map((c) => ({
            table_name: m.tableName,
            column_name: c.databaseName,
            nullable: c.isNullable,
          })),
        )
        .sort((a, b) => `${a.table_name}.${a.column_name}`.localeCompare(`${b.table_name}.${b.column_name}`));
      expect(columns).toEqual(declared);
    } finally {
      await dataSource.destroy();
    }
  });

  it('run up and down cleanly against an empty database', async () => {
    const url = await createTestDatabase('migrations');
    const dataSource = new DataSource(dataSourceOptions(url));
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      expect(applied).toHaveLength(MIGRATIONS.length);
      expect(await dataSource.showMigrations()).toBe(false);
      for (let i = 0; i < applied.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
      expect(await tables(url)).toEqual(['schema_migrations']);
      // and up again: down migrations leave nothing behind that blocks a re-run
      expect(await dataSource.runMigrations({ transaction: 'each' })).toHaveLength(MIGRATIONS.length);
    } finally {
      await dataSource.destroy();
    }
  });

  it('re-hashes chains written before the in-database hash, so they verify afterwards', async () => {
    const url = await createTestDatabase('rehash');
    const before = new DataSource({ ...dataSourceOptions(url), migrations: MIGRATIONS.slice(0, 3) });
    await before.initialize();
    try {
      await before.runMigrations({ transaction: 'each' });
      for (const [id, org] of [
        [1, 'a'],
        [2, 'b'],
        [3, 'a'],
        [4, 'a'],
      ] as const) {
        await before.query(
          `INSERT INTO audit_events (id, org_id, occurred_at, action, actor_type, details, prev_hash, hash)
           VALUES ($1::bigint, $2, now(), 'integration.saved', 'system', '{"n": 1}', 'old-prev', 'old-hash-' || $1::text)`,
          [id, org],
        );
        await before.query(
          `INSERT INTO audit_chain_heads VALUES ($2, $1::bigint, 'old-hash-' || $1::text, 1)
           ON CONFLICT (org_id) DO UPDATE SET last_id = $1::bigint, last_hash = 'old-hash-' || $1::text, event_count = audit_chain_heads.event_count + 1`,
          [id, org],
        );
      }
    } finally {
      await before.destroy();
    }
    const after = new DataSource(dataSourceOptions(url));
    await after.initialize();
    try {
      await after.runMigrations({ transaction: 'each' });
      const broken = await after.query<{ id: string }[]>(
        `SELECT id::text FROM (
           SELECT id, prev_hash IS DISTINCT FROM lag(hash) OVER (PARTITION BY org_id ORDER BY id)
                    OR hash IS DISTINCT FROM audit_event_hash(prev_hash, id, org_id, occurred_at, action, actor_type,
                                                              actor_id, actor_name, request_id, ip, user_agent, details,
                                                              client_request_id) AS bad
             FROM audit_events) c WHERE bad`,
      );
      expect(broken).toEqual([]);
      const heads = await after.query<{ org_id: string; ok: boolean }[]>(
        `SELECT h.org_id, h.last_hash = e.hash AS ok FROM audit_chain_heads h JOIN audit_events e ON e.id = h.last_id ORDER BY 1`,
      );
      expect(heads).toEqual([
        { org_id: 'a', ok: true },
        { org_id: 'b', ok: true },
      ]);
      await expect(after.query("UPDATE audit_events SET action = 'x' WHERE id = 1")).rejects.toThrow(
        /append-only/,
      );
    } finally {
      await after.destroy();
    }
  });

  it('seals audit chains written before the chain was keyed, and only those that still verify', async () => {
    const url = await createTestDatabase('seal');
    const before = new DataSource({ ...dataSourceOptions(url), migrations: MIGRATIONS.slice(0, 4) });
    await before.initialize();
    const ids: Record<string, string[]> = { intact: [], edited: [] };
    try {
      await before.runMigrations({ transaction: 'each' });
      for (const org of ['intact', 'edited', 'intact', 'edited', 'intact', 'edited']) {
        // The append statement of the version before the keyed chain.
        const [row] = await before.transaction((m) =>
          m.query<{ id: string }[]>(
            `WITH v AS (
               SELECT nextval('audit_events_id_seq') AS id, date_trunc('milliseconds', clock_timestamp()) AS occurred_at,
                      (SELECT last_hash FROM audit_chain_heads WHERE org_id = $1) AS prev_hash
             ), inserted AS (
               INSERT INTO audit_events (id, org_id, occurred_at, action, actor_type, actor_id, actor_name, request_id, ip, user_agent, details, prev_hash, hash)
               SELECT v.id, $1, v.occurred_at, 'integration.saved', 'user', 'alice', null, 'r', null, null, '{"n": 1}'::jsonb, v.prev_hash,
                      audit_event_hash(v.prev_hash, v.id, $1, v.occurred_at, 'integration.saved', 'user', 'alice', null, 'r', null, null, '{"n": 1}'::jsonb)
                 FROM v RETURNING id, hash
             ), head AS (
               INSERT INTO audit_chain_heads (org_id, last_id, last_hash, event_count) SELECT $1, id, hash, 1 FROM inserted
               ON CONFLICT (org_id) DO UPDATE SET last_id = EXCLUDED.last_id, last_hash = EXCLUDED.last_hash,
                                                  event_count = audit_chain_heads.event_count + 1
             )
             SELECT id::text FROM inserted`,
            [org],
          ),
        );
        ids[org].push(row.id);
      }
    } finally {
      await before.destroy();
    }
    await withClient(superuserUrlFor(url), async (c) => {
      await c.query('SET session_replication_role = replica');
      await c.query(`UPDATE audit_events SET details = '{"n": 2}' WHERE id = $1`, [ids.edited[1]]);
    });

    const t = await startTestApp({ databaseUrl: url });
    try {
      const verify = async (org: string) =>
        (await call(t, 'GET', '/api/v1/audit-events/verify', await t.token({ org }))).body;
      expect(await verify('intact')).toEqual({ ok: true, checked: 3, first_broken_id: null, problem: null });
      // Left unsealed: nothing vouches for any of its events, so the first one is reported.
      expect(await verify('edited')).toEqual({
        ok: false,
        checked: 0,
        first_broken_id: ids.edited[0],
        problem: null,
      });
      const macs = await withClient(url, async (c) => {
        const result = await c.query(
          'SELECT org_id, count(mac)::int AS sealed FROM audit_events GROUP BY 1 ORDER BY 1',
        );
        return result.rows as { org_id: string; sealed: number }[];
      });
      expect(macs).toEqual([
        { org_id: 'edited', sealed: 0 },
        { org_id: 'intact', sealed: 3 },
      ]);
    } finally {
      await t.close();
    }
  });
});
