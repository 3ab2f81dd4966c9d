import { DataSource } from 'typeorm';
import { AuditRepository } from '../src/audit/audit.repository.js';
import { AuditService, AuditContext } from '../src/audit/audit.service.js';
import { AUDIT_ACTIONS, type AuditAction } from '../src/audit/audit-action.js';
import { ACTION_NAMES } from '../console/src/audit-sentences.js';
import { startTestApp, TestApp } from './support/app.js';
import { superuserUrlFor, withClient } from './support/database.js';
import { connect } from './support/handoff.js';
import { call, credentialsOf, PATH } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const AUDIT = '/api/v1/audit-events';

/** RFC 4180 parser for the export (quotes, doubled quotes, CRLF inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

describe('audit log for admins', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let audit: AuditService;
  let dataSource: DataSource;

  const context = (actorId: string, name: string | null = null): AuditContext => ({
    actor: { type: 'user', id: actorId, name },
    requestId: `req-${actorId}`,
    clientRequestId: null,
    ip: '203.0.113.7',
    userAgent: 'test-agent',
  });
  const append = async (
    orgId: string,
    count: number,
    action: AuditAction = 'integration.saved',
    actor = 'alice',
    details: Record<string, unknown> = {},
  ) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const event = await dataSource.transaction((m) =>
        audit.record(m, orgId, action, context(actor), { n: i, ...details }),
      );
      ids.push(String(event.id));
    }
    return ids;
  };
  const admin = (org: string) => t.token({ org, roles: ['admin'] });

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: { ...ms.env, VERIFY_RATE_LIMIT_PER_MINUTE: '1000' } });
    audit = t.app.get(AuditService);
    dataSource = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('pages through many events newest first, without duplicates or gaps, while new events arrive', async () => {
    const ids = await append('paging', 230);
    const token = await admin('paging');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: { items: { id: string }[]; next_cursor: string | null } } =
        await call(t, 'GET', `${AUDIT}?limit=40${cursor ? `&cursor=${cursor}` : ''}`, token);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((e) => e.id));
      cursor = page.body.next_cursor;
      pages += 1;
      await append('paging', 3, 'integration.status_changed', 'system-ish');
    } while (cursor);
    expect(pages).toBe(6);
    expect(seen).toEqual([...ids].reverse());
  });

  it('names every action it records in the console (its filter and its sentences)', () => {
    expect(Object.keys(ACTION_NAMES).sort()).toEqual([...AUDIT_ACTIONS].sort());
  });

  it('answers each filter, alone and combined', async () => {
    const org = 'filters';
    const saved = await append(org, 3, 'integration.saved', 'alice');
    const [rejected] = await append(org, 1, 'integration.save_rejected', 'bob');
    const disconnected = await append(org, 2, 'integration.disconnected', 'bob');
    const token = await admin(org);
    const ids = async (query: string) => {
      const result = await call(t, 'GET', `${AUDIT}?${query}`, token);
      expect([query, result.status]).toEqual([query, 200]);
      return (result.body.items as { id: string }[]).map((e) => e.id);
    };
    expect(await ids('action=integration.saved')).toEqual([...saved].reverse());
    expect(await ids('action=integration.save_rejected&action=integration.disconnected')).toEqual([
      ...disconnected.reverse(),
      rejected,
    ]);
    expect(await ids('action=integration.save_rejected,integration.disconnected&actor_id=bob')).toHaveLength(
      3,
    );
    expect(await ids('actor_id=alice')).toEqual([...saved].reverse());
    // Who, as the console shows it: the name (any case), else the id; System for the service.
    const [named] = await dataSource.transaction(async (m) => [
      String((await audit.record(m, org, 'integration.saved', context('carol-sub', 'Carol Admin'), {})).id),
    ]);
    const [bySystem] = await dataSource.transaction(async (m) => [
      String(
        (
          await audit.record(
            m,
            org,
            'integration.status_changed',
            { ...context('x'), actor: { type: 'system', id: null, name: null } },
            {},
          )
        ).id,
      ),
    ]);
    expect(await ids('actor=carol%20admin')).toEqual([named]);
    expect(await ids('actor=carol-sub')).toEqual([named]);
    expect(await ids('actor=alice')).toEqual([...saved].reverse());
    expect(await ids('actor=System')).toEqual([bySystem]);

    const all = (await call(t, 'GET', `${AUDIT}?limit=200`, token)).body.items as {
      id: string;
      occurred_at: string;
    }[];
    const middle = all.find((e) => e.id === rejected)!;
    // Exactly the events at or after (since) / before (until) that time — events written in the
    // same millisecond as the middle one (a loaded machine) share its time, whatever their ids.
    const at = (e: { occurred_at: string }) => Date.parse(e.occurred_at);
    const since = await ids(`since=${encodeURIComponent(middle.occurred_at)}`);
    expect(since).toContain(rejected);
    expect(since).toEqual(all.filter((e) => at(e) >= at(middle)).map((e) => e.id));
    const until = await ids(`until=${encodeURIComponent(middle.occurred_at)}`);
    expect(until).not.toContain(rejected);
    expect(until).toEqual(all.filter((e) => at(e) < at(middle)).map((e) => e.id));
    expect(await ids('limit=2')).toHaveLength(2);

    for (const bad of [
      'limit=0',
      'limit=201',
      'limit=ten',
      'action=integration.deleted',
      'since=yesterday',
      'cursor=%21%21',
      'cursor=djE6YWJj',
      `since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`,
      'org_id=other',
    ]) {
      const result = await call(t, 'GET', `${AUDIT}?${bad}`, token);
      expect([bad, result.status, result.body.error.code]).toEqual([bad, 400, 'validation_failed']);
    }
  });

  it('carries the filters in the cursor: the next page is of the same listing', async () => {
    const org = 'cursor-filters';
    const saved = await append(org, 3, 'integration.saved', 'alice');
    await append(org, 3, 'integration.disconnected', 'bob');
    const token = await admin(org);
    const first = await call(t, 'GET', `${AUDIT}?action=integration.saved&limit=2`, token);
    expect(first.body.items.map((e: { id: string }) => e.id)).toEqual([saved[2], saved[1]]);
    const cursor = encodeURIComponent(first.body.next_cursor);
    for (const query of [`cursor=${cursor}`, `cursor=${cursor}&action=integration.saved&limit=2`]) {
      const next = await call(t, 'GET', `${AUDIT}?${query}`, token);
      expect([query, next.body.items.map((e: { id: string }) => e.id), next.body.next_cursor]).toEqual([
        query,
        [saved[0]],
        null,
      ]);
    }
    const other = await call(t, 'GET', `${AUDIT}?cursor=${cursor}&action=integration.disconnected`, token);
    expect([other.status, other.body.error.details[0].field]).toEqual([400, 'cursor']);
    const csv = await t.request(`${AUDIT}?cursor=${cursor}`, { token, headers: { accept: 'text/csv' } });
    expect(
      parseCsv(await csv.text())
        .slice(1)
        .map((row) => row[0]),
    ).toEqual([saved[0]]);
  });

  it('refuses cursors it did not make, also one past the largest id, without a 500 or SQL in the log', async () => {
    const token = await admin('cursor-bad');
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      'djE6OTIyMzM3MjAzNjg1NDc3NTgwOA',
      forge({ v: 2, id: '9223372036854775808', f: {} }),
      forge({ v: 2, id: '12', f: { action: ['integration.deleted'] } }),
      forge({ v: 2, id: '12', f: { since: 'yesterday' } }),
      forge({ v: 2, id: '12', f: [] }),
      forge([1]),
      forge(null),
    ]) {
      const result = await call(t, 'GET', `${AUDIT}?cursor=${cursor}`, token);
      expect([cursor, result.status, result.body.error.details?.[0].field]).toEqual([cursor, 400, 'cursor']);
    }
    expect(t.rawLogs()).not.toMatch(/SELECT .* FROM audit_events/);
  });

  it('shows saves, rejected saves and disconnects with actor, request id, client ip and user agent', async () => {
    const org = 'from-http';
    const token = await t.token({ org, roles: ['admin'], sub: 'carol', name: 'Carol C' });
    const headers = { 'user-agent': 'admin-console/2.1', 'x-request-id': 'rq-audit-1' };
    const saved = await call(t, 'PUT', PATH, token, credentialsOf(ms), headers);
    const rejected = await call(t, 'PUT', PATH, token, credentialsOf(ms, { client_secret: 'wrong' }), {
      ...headers,
      'x-request-id': 'rq-audit-2',
    });
    const disconnected = await call(t, 'DELETE', PATH, token, undefined, {
      ...headers,
      'x-request-id': 'rq-audit-3',
    });
    const { body } = await call(t, 'GET', AUDIT, token);
    type Ids = { action: string; request_id: string; client_request_id: string };
    // The server's own id is the request id; the caller's is kept beside it.
    expect(body.items.map((e: Ids) => [e.action, e.request_id, e.client_request_id])).toEqual([
      ['integration.disconnected', disconnected.headers.get('x-request-id'), 'rq-audit-3'],
      ['integration.save_rejected', rejected.headers.get('x-request-id'), 'rq-audit-2'],
      ['integration.saved', saved.headers.get('x-request-id'), 'rq-audit-1'],
    ]);
    expect(body.items[0].request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.items[2]).toMatchObject({
      actor: { type: 'user', id: 'carol', name: 'Carol C' },
      ip: '127.0.0.1',
      user_agent: 'admin-console/2.1',
      details: { created: true, secret_rotated: false },
    });
    expect(body.items[1].details).toMatchObject({
      stage: 'token_exchange',
      outcome: 'rejected',
      code: 'AADSTS7000215',
    });
    expect(JSON.stringify(body)).not.toContain(ms.secret.value);
    expect((await call(t, 'GET', `${AUDIT}/verify`, token)).body).toEqual({
      ok: true,
      checked: 3,
      first_broken_id: null,
      problem: null,
    });
  });

  it('records the client ip from X-Forwarded-For only when TRUST_PROXY says so', async () => {
    const headers = { 'x-forwarded-for': '198.51.100.9' };
    await call(t, 'PUT', PATH, await admin('no-proxy'), credentialsOf(ms), headers);
    expect((await call(t, 'GET', AUDIT, await admin('no-proxy'))).body.items[0].ip).toBe('127.0.0.1');
    const proxied = await startTestApp({
      databaseUrl: t.databaseUrl,
      env: { ...ms.env, TRUST_PROXY: '127.0.0.1' },
    });
    try {
      const token = await proxied.token({ org: 'behind-proxy' });
      await call(proxied, 'PUT', PATH, token, credentialsOf(ms), headers);
      expect((await call(proxied, 'GET', AUDIT, token)).body.items[0].ip).toBe('198.51.100.9');
    } finally {
      await proxied.close();
    }
  });

  it('exports the filtered log as streamed CSV that parses back', async () => {
    const org = 'csv';
    await append(org, 1200, 'integration.saved', 'alice');
    await append(org, 1, 'integration.save_rejected', '=HYPERLINK("x")', {
      note: 'comma, "quote"\r\nnewline',
    });
    const response = await t.request(`${AUDIT}?action=integration.saved,integration.save_rejected`, {
      token: await admin(org),
      headers: { accept: 'text/csv' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="audit-events-csv.csv"');
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    const rows = parseCsv(await response.text());
    expect(rows[0]).toEqual([
      'id',
      'occurred_at',
      'action',
      'actor_type',
      'actor_id',
      'actor_name',
      'request_id',
      'client_request_id',
      'ip',
      'user_agent',
      'details',
    ]);
    expect(rows).toHaveLength(1 + 1201);
    const first = rows[1];
    expect(first[2]).toBe('integration.save_rejected');
    expect(first[4]).toBe('\'=HYPERLINK("x")');
    expect(JSON.parse(first[10])).toEqual({ n: 0, note: 'comma, "quote"\r\nnewline' });
    const ids = rows.slice(1).map((r) => BigInt(r[0]));
    expect(ids.every((id, i) => i === 0 || id < ids[i - 1])).toBe(true);
    expect(new Date(rows[2][1]).toISOString()).toBe(rows[2][1]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database, whoever asks', async () => {
    await append('immutable', 1);
    for (const sql of [
      "UPDATE audit_events SET action = 'x' WHERE org_id = 'immutable'",
      "DELETE FROM audit_events WHERE org_id = 'immutable'",
      'TRUNCATE audit_events',
    ]) {
      await expect(withClient(t.databaseUrl, (c) => c.query(sql))).rejects.toThrow(
        /audit_events is append-only/,
      );
    }
    const [{ n }] = await withClient(
      t.databaseUrl,
      async (c) =>
        (await c.query("SELECT count(*)::int AS n FROM audit_events WHERE org_id = 'immutable'")).rows,
    );
    expect(n).toBe(1);
  });

  /** As the superuser, with the append-only triggers switched off for the statement's transaction. */
  const tamper = (sql: string, params: unknown[] = []) =>
    withClient(superuserUrlFor(t.databaseUrl), async (c) => {
      await c.query('BEGIN');
      await c.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
      await c.query('ALTER TABLE audit_chain_heads DISABLE TRIGGER USER');
      await c.query(sql, params);
      for (const trigger of ['audit_events_no_update_delete', 'audit_events_no_truncate']) {
        await c.query(`ALTER TABLE audit_events ENABLE ALWAYS TRIGGER ${trigger}`);
      }
      for (const trigger of ['audit_chain_heads_only_advance', 'audit_chain_heads_no_truncate']) {
        await c.query(`ALTER TABLE audit_chain_heads ENABLE ALWAYS TRIGGER ${trigger}`);
      }
      await c.query('COMMIT');
    });

  it('refuses to delete, truncate or rewind a chain head, whoever asks', async () => {
    await append('heads', 3);
    for (const sql of [
      "DELETE FROM audit_chain_heads WHERE org_id = 'heads'",
      'TRUNCATE audit_chain_heads',
      "UPDATE audit_chain_heads SET event_count = 1 WHERE org_id = 'heads'",
      "UPDATE audit_chain_heads SET last_id = 1 WHERE org_id = 'heads'",
    ]) {
      await expect(withClient(t.databaseUrl, (c) => c.query(sql))).rejects.toThrow(
        /audit_chain_heads only advance/,
      );
    }
  });

  it('reports the chain of an org with a stored connection erased whole (events and head)', async () => {
    await connect(t, ms, 'erased');
    await tamper("DELETE FROM audit_events WHERE org_id = 'erased'");
    await tamper("DELETE FROM audit_chain_heads WHERE org_id = 'erased'");
    expect((await call(t, 'GET', `${AUDIT}/verify`, await admin('erased'))).body).toEqual({
      ok: false,
      checked: 0,
      first_broken_id: null,
      problem: expect.stringMatching(/empty although the organisation has a stored Dynamics 365 connection/),
    });
    // An org that never connected has an empty chain that verifies.
    expect((await call(t, 'GET', `${AUDIT}/verify`, await admin('never-connected'))).body).toMatchObject({
      ok: true,
      checked: 0,
    });
  });

  it('reads MACs in chain order when ids cross a power of ten (ids sorted as numbers, not text)', async () => {
    // Bug found in the benchmark: `SELECT id::text … ORDER BY id` sorted by the text alias, so the
    // MAC pass skipped events once a batch straddled 9999 → 10000.
    const [{ last }] = await dataSource.query<{ last: string }[]>(
      'SELECT greatest(last_value, 9994)::text AS last FROM audit_events_id_seq',
    );
    await dataSource.query("SELECT setval('audit_events_id_seq', $1)", [last]);
    const ids = await append('order-digits', 12);
    expect(ids.some((id) => id.length > ids[0].length)).toBe(true);
    const repository = t.app.get(AuditRepository);
    const firstFive = await repository.macsAfter('order-digits', '0', 5);
    expect(firstFive.map((row) => row.id)).toEqual(ids.slice(0, 5));
    const rest = await repository.macsAfter('order-digits', ids[4], 100);
    expect(rest.map((row) => row.id)).toEqual(ids.slice(5));
  });

  it('checks a chain inside a transaction one query at a time (its connection takes no concurrent queries)', async () => {
    // Found in the benchmark: sealing ran the three content scans at once on the transaction's
    // one connection, which pg queues with a deprecation warning (an error from pg 9).
    await append('content-in-transaction', 3);
    const repository = t.app.get(AuditRepository);
    let inFlight = 0;
    let most = 0;
    const result = await dataSource.transaction(async (manager) => {
      const query = manager.query.bind(manager);
      manager.query = (async (sql: string, parameters?: unknown[]) => {
        most = Math.max(most, ++inFlight);
        try {
          return await query(sql, parameters);
        } finally {
          inFlight--;
        }
      }) as typeof manager.query;
      return repository.checkContent('content-in-transaction', manager);
    });
    expect(result).toMatchObject({ total: 3, firstBrokenId: null });
    expect(most).toBe(1);
  });

  it('finds an edited event at its id', async () => {
    const ids = await append('tamper-edit', 20);
    await tamper(`UPDATE audit_events SET details = '{"n": 999}' WHERE id = $1`, [ids[7]]);
    const result = await call(t, 'GET', `${AUDIT}/verify`, await admin('tamper-edit'));
    expect(result.body).toEqual({ ok: false, checked: 7, first_broken_id: ids[7], problem: null });
  });

  it('finds a removed event at the next id, and a removed newest event at the head', async () => {
    const ids = await append('tamper-delete', 20);
    await tamper('DELETE FROM audit_events WHERE id = $1', [ids[12]]);
    expect((await call(t, 'GET', `${AUDIT}/verify`, await admin('tamper-delete'))).body).toEqual({
      ok: false,
      checked: 12,
      first_broken_id: ids[13],
      problem: null,
    });

    const tail = await append('tamper-tail', 5);
    await tamper('DELETE FROM audit_events WHERE id = $1', [tail[4]]);
    expect((await call(t, 'GET', `${AUDIT}/verify`, await admin('tamper-tail'))).body).toEqual({
      ok: false,
      checked: 4,
      first_broken_id: tail[4],
      problem: null,
    });
  });

  it('refuses changes to the superuser too, also with session_replication_role = replica', async () => {
    const [id] = await append('immutable-superuser', 1);
    await expect(
      withClient(superuserUrlFor(t.databaseUrl), async (c) => {
        await c.query('SET session_replication_role = replica');
        await c.query("UPDATE audit_events SET actor_name = 'Mallory' WHERE id = $1", [id]);
      }),
    ).rejects.toThrow(/audit_events is append-only/);
  });

  it('finds a rewrite by a superuser who recomputed every hash and the head, but lacks the key', async () => {
    const org = 'tamper-rewrite';
    const ids = await append(org, 10);
    await tamper(
      `DO $$
       DECLARE e record; prev text;
       BEGIN
         UPDATE audit_events SET actor_name = 'Mallory' WHERE id = ${ids[4]};
         SELECT hash INTO prev FROM audit_events WHERE id = ${ids[3]};
         FOR e IN SELECT * FROM audit_events WHERE org_id = '${org}' AND id >= ${ids[4]} ORDER BY id LOOP
           UPDATE audit_events
              SET prev_hash = prev,
                  hash = audit_event_hash(prev, e.id, e.org_id, e.occurred_at, e.action, e.actor_type, e.actor_id,
                                          e.actor_name, e.request_id, e.ip, e.user_agent, e.details, e.client_request_id)
            WHERE id = e.id RETURNING hash INTO prev;
         END LOOP;
         UPDATE audit_chain_heads SET last_hash = prev WHERE org_id = '${org}';
       END $$`,
    );
    const rows = await withClient(t.databaseUrl, async (c) => {
      const result = await c.query(`SELECT actor_name FROM audit_events WHERE id = $1`, [ids[4]]);
      return result.rows as { actor_name: string }[];
    });
    expect(rows[0].actor_name).toBe('Mallory');
    expect((await call(t, 'GET', `${AUDIT}/verify`, await admin(org))).body).toEqual({
      ok: false,
      checked: 4,
      first_broken_id: ids[4],
      problem: null,
    });
  });

  it('finds the newest events cut off even when the head was rewound to match', async () => {
    const org = 'tamper-rewind';
    const ids = await append(org, 6);
    await tamper('DELETE FROM audit_events WHERE id = $1', [ids[5]]);
    await tamper(
      `UPDATE audit_chain_heads h SET last_id = e.id, last_hash = e.hash, event_count = 5
         FROM audit_events e WHERE e.id = $1 AND h.org_id = e.org_id`,
      [ids[4]],
    );
    expect((await call(t, 'GET', `${AUDIT}/verify`, await admin(org))).body).toEqual({
      ok: false,
      checked: 5,
      first_broken_id: ids[4],
      problem: null,
    });
  });

  it('finds a reordered chain', async () => {
    const ids = await append('tamper-swap', 6);
    await tamper(
      `UPDATE audit_events a SET details = b.details FROM audit_events b
        WHERE (a.id, b.id) IN (($1::bigint, $2::bigint), ($2::bigint, $1::bigint))`,
      [ids[2], ids[3]],
    );
    expect((await call(t, 'GET', `${AUDIT}/verify`, await admin('tamper-swap'))).body).toMatchObject({
      ok: false,
      first_broken_id: ids[2],
      problem: null,
    });
  });

  it('keeps one valid chain under concurrent saves for one org', async () => {
    const org = 'concurrent';
    const token = await admin(org);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(t, 'PUT', PATH, token, credentialsOf(ms, { default_priority: (i % 4) + 1 })),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        dataSource.transaction((m) =>
          audit.record(m, org, 'integration.status_changed', context('sys'), { i }),
        ),
      ),
    );
    expect((await call(t, 'GET', `${AUDIT}/verify`, token)).body).toEqual({
      ok: true,
      checked: 38,
      first_broken_id: null,
      problem: null,
    });
  });

  it('is for admins of the org only', async () => {
    await append('private', 2);
    const member = await t.token({ org: 'private', roles: [] });
    for (const path of [AUDIT, `${AUDIT}/verify`]) {
      expect((await call(t, 'GET', path, member)).status).toBe(403);
      expect((await t.request(path)).status).toBe(401);
    }
    const csv = await t.request(AUDIT, { token: member, headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(403);
    const other = await call(t, 'GET', AUDIT, await admin('someone-else'));
    expect(other.body).toEqual({ items: [], next_cursor: null });
    expect((await call(t, 'GET', `${AUDIT}/verify`, await admin('someone-else'))).body).toEqual({
      ok: true,
      checked: 0,
      first_broken_id: null,
      problem: null,
    });
  });
});
