// Every statement on the audit tables. Plain SQL through the application's DataSource: the chain
// is computed by PostgreSQL (audit_event_hash), appends are serialised by a per-org advisory
// lock, and the integrity check is a parallel-safe scan — none of which an ORM expresses.
// One file over 350 lines on purpose: it is the audit tables' one way in (append, pages, check).
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { PreparedStatement } from '../database/prepared-statement.js';
import { hashOf } from './audit-schema.js';
import type { AuditAction } from './audit-action.js';
import type { Mac } from './audit-chain-keys.js';

export interface AuditFilter {
  orgId: string;
  actions?: AuditAction[];
  actorId?: string;
  /** The name shown (case-insensitive) or the id; `system` for the service's own events. */
  actor?: string;
  since?: Date;
  until?: Date;
  /** Only events with a smaller id (keyset pagination, newest first). */
  beforeId?: string;
}

export interface AuditRow {
  id: string;
  org_id: string;
  occurred_at: Date;
  action: AuditAction;
  actor_type: 'user' | 'system';
  actor_id: string | null;
  actor_name: string | null;
  request_id: string | null;
  client_request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  prev_hash: string | null;
  hash: string;
}

/** What an appended event says, before the database gives it an id, a time and a hash. */
export interface NewAuditEvent {
  orgId: string;
  action: AuditAction;
  actorType: 'user' | 'system';
  actorId: string | null;
  actorName: string | null;
  requestId: string | null;
  clientRequestId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

/** The event as the database placed it at the end of its org's chain. */
export interface PlacedEvent {
  id: string;
  occurredAt: string;
  prevHash: string | null;
  hash: string;
  /** Events in the org's chain once this one is appended. */
  eventCount: string;
}

export interface ChainHeadRow {
  last_id: string;
  last_hash: string;
  event_count: string;
  mac: string | null;
  mac_key_id: string | null;
}

export interface ContentCheck {
  total: number;
  /** First event whose hash does not match its content or whose link does not match its predecessor. */
  firstBrokenId: string | null;
  lastId: string | null;
  lastHash: string | null;
}

const COLUMNS =
  'id::text, org_id, occurred_at, action, actor_type, actor_id, actor_name, request_id, client_request_id, ip, user_agent, details, prev_hash, hash';

/** Namespace of the per-org advisory locks that serialise chain appends. */
const CHAIN_LOCK_NAMESPACE = 7301;

/**
 * The append's three statements (lockChain, place, insert below), prepared once per connection:
 * every save, verification and handoff writes an event (see PreparedStatement).
 */
const LOCK_CHAIN = new PreparedStatement('SELECT pg_advisory_xact_lock($1, hashtext($2))');

const PLACE = new PreparedStatement(
  `WITH v AS (
     SELECT nextval('audit_events_id_seq') AS id,
            date_trunc('milliseconds', clock_timestamp()) AS occurred_at,
            h.last_hash AS prev_hash, COALESCE(h.event_count, 0) + 1 AS event_count
       FROM (SELECT 1) one LEFT JOIN audit_chain_heads h ON h.org_id = $1
   )
   SELECT v.id::text, to_char(v.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at,
          v.prev_hash, v.event_count::text,
          ${hashOf('v', { org_id: '$1', action: '$2', actor_type: '$3', actor_id: '$4', actor_name: '$5', request_id: '$6', ip: '$7', user_agent: '$8', details: '$9::jsonb', client_request_id: '$10' })} AS hash
     FROM v`,
);

const INSERT = new PreparedStatement(
  `WITH inserted AS (
     INSERT INTO audit_events (id, org_id, occurred_at, action, actor_type, actor_id, actor_name, request_id, ip,
                               user_agent, details, client_request_id, prev_hash, hash, mac, mac_key_id)
     SELECT $11::bigint, $1, $12::timestamptz, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $13, $14, $15, $16
      WHERE ${hashOf('x', { prev_hash: '$13', id: '$11::bigint', org_id: '$1', occurred_at: '$12::timestamptz', action: '$2', actor_type: '$3', actor_id: '$4', actor_name: '$5', request_id: '$6', ip: '$7', user_agent: '$8', details: '$9::jsonb', client_request_id: '$10' })} = $14
     RETURNING id
   ), head AS (
     INSERT INTO audit_chain_heads (org_id, last_id, last_hash, event_count, mac, mac_key_id)
     SELECT $1, id, $14, $17::bigint, $18, $19 FROM inserted
     ON CONFLICT (org_id) DO UPDATE
       SET last_id = EXCLUDED.last_id, last_hash = EXCLUDED.last_hash, event_count = EXCLUDED.event_count,
           mac = EXCLUDED.mac, mac_key_id = EXCLUDED.mac_key_id
   )
   SELECT count(*)::int AS inserted FROM inserted`,
);

@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Serialises appends to the org's chain until the caller's transaction ends. */
  async lockChain(manager: EntityManager, orgId: string): Promise<void> {
    await LOCK_CHAIN.rows(manager, [CHAIN_LOCK_NAMESPACE, orgId]);
  }

  /**
   * Under the chain lock: the next id and the database clock (so ids and times rise together per
   * org, and a time window is an id range), the link to the chain head, and the event's hash.
   */
  async place(manager: EntityManager, event: NewAuditEvent): Promise<PlacedEvent> {
    const [placed] = await PLACE.rows<{
      id: string;
      occurred_at: string;
      prev_hash: string | null;
      hash: string;
      event_count: string;
    }>(manager, eventParams(event));
    return {
      id: placed.id,
      occurredAt: placed.occurred_at,
      prevHash: placed.prev_hash,
      hash: placed.hash,
      eventCount: placed.event_count,
    };
  }

  /**
   * Writes the placed event with its MAC and moves the chain head. The row is written only if its
   * content still hashes to the placed hash, so what was signed is what is stored.
   */
  async insert(
    manager: EntityManager,
    event: NewAuditEvent,
    placed: PlacedEvent,
    mac: Mac,
    headMac: Mac,
  ): Promise<void> {
    const [row] = await INSERT.rows<{ inserted: number }>(manager, [
      ...eventParams(event),
      placed.id,
      placed.occurredAt,
      placed.prevHash,
      placed.hash,
      mac.mac,
      mac.keyId,
      placed.eventCount,
      headMac.mac,
      headMac.keyId,
    ]);
    if (row.inserted !== 1) throw new Error('audit event content changed between hashing and writing');
  }

  /** Newest first, keyset-paginated on id (no OFFSET), so pages stay stable while events arrive. */
  async page(filter: AuditFilter, limit: number): Promise<AuditRow[]> {
    const { where, params } = whereClause(filter);
    return this.dataSource.query<AuditRow[]>(
      // Order by the bigint column, not the `id::text` output column of the same name.
      `SELECT ${COLUMNS} FROM audit_events WHERE ${where} ORDER BY audit_events.id DESC LIMIT $${params.length + 1}`,
      [...params, limit],
    );
  }

  /**
   * Recomputes the org's chain in the database: every event must hash (audit_event_hash) to its
   * stored value — an aggregate over the org's rows, which PostgreSQL spreads over parallel
   * workers (min() over a filtered index walk would run on one core) — and link to the previous
   * event's hash (a cheap ordered pass). Outside a transaction the scans run at once on pooled
   * connections; inside one they take turns on its connection, which runs one query at a time.
   */
  async checkContent(orgId: string, manager?: EntityManager): Promise<ContentCheck> {
    const on = manager ?? this.dataSource.manager;
    const hashes = () =>
      on.query<{ first_bad_hash: string | null }[]>(
        `SELECT (min(id) FILTER (WHERE hash IS DISTINCT FROM ${hashOf('e')}))::text AS first_bad_hash
           FROM audit_events e WHERE org_id = $1`,
        [orgId],
      );
    const links = () =>
      on.query<{ total: number; first_bad_link: string | null }[]>(
        `SELECT count(*)::int AS total, min(id) FILTER (WHERE broken)::text AS first_bad_link
           FROM (SELECT id, prev_hash IS DISTINCT FROM lag(hash) OVER (ORDER BY id) AS broken
                   FROM audit_events WHERE org_id = $1) chain`,
        [orgId],
      );
    const last = () =>
      on.query<{ last_id: string; last_hash: string }[]>(
        'SELECT id::text AS last_id, hash AS last_hash FROM audit_events WHERE org_id = $1 ORDER BY id DESC LIMIT 1',
        [orgId],
      );
    const [[hashed], [linked], [newest]] = manager
      ? [await hashes(), await links(), await last()]
      : await Promise.all([hashes(), links(), last()]);
    return {
      total: linked.total,
      firstBrokenId: smallestId([hashed.first_bad_hash, linked.first_bad_link]),
      lastId: newest?.last_id ?? null,
      lastHash: newest?.last_hash ?? null,
    };
  }

  /** The org's events after `afterId` in chain order, with what their MACs sign. */
  macsAfter(
    orgId: string,
    afterId: string,
    limit: number,
  ): Promise<{ id: string; hash: string; mac: string | null; mac_key_id: string | null }[]> {
    return this.dataSource.query(
      `SELECT id::text, hash, mac, mac_key_id FROM audit_events
        WHERE org_id = $1 AND id > $2 ORDER BY audit_events.id LIMIT $3`,
      [orgId, afterId, limit],
    );
  }

  async countBefore(orgId: string, id: string): Promise<number> {
    const [row] = await this.dataSource.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1 AND id < $2',
      [orgId, id],
    );
    return row.n;
  }

  async chainHead(
    orgId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ChainHeadRow | undefined> {
    const rows = await manager.query<ChainHeadRow[]>(
      'SELECT last_id::text, last_hash, event_count::text, mac, mac_key_id FROM audit_chain_heads WHERE org_id = $1',
      [orgId],
    );
    return rows[0];
  }

  /** Orgs with events written before the chain was keyed. */
  async orgsWithUnsealedEvents(): Promise<string[]> {
    const rows = await this.dataSource.query<{ org_id: string }[]>(
      'SELECT DISTINCT org_id FROM audit_events WHERE mac IS NULL',
    );
    return rows.map((r) => r.org_id);
  }

  unsealedEvents(
    manager: EntityManager,
    orgId: string,
    limit: number,
  ): Promise<{ id: string; hash: string }[]> {
    return manager.query(
      'SELECT id::text, hash FROM audit_events WHERE org_id = $1 AND mac IS NULL ORDER BY audit_events.id LIMIT $2',
      [orgId, limit],
    );
  }

  /** The one change the append-only trigger allows: an unsealed event gets its MAC, once. */
  async sealEvents(manager: EntityManager, orgId: string, macs: { id: string; mac: Mac }[]): Promise<void> {
    await manager.query(
      `UPDATE audit_events e SET mac = m.mac, mac_key_id = m.key_id
         FROM unnest($2::bigint[], $3::text[], $4::text[]) AS m(id, mac, key_id)
        WHERE e.org_id = $1 AND e.id = m.id AND e.mac IS NULL`,
      [orgId, macs.map((m) => m.id), macs.map((m) => m.mac.mac), macs.map((m) => m.mac.keyId)],
    );
  }

  async sealHead(manager: EntityManager, orgId: string, head: Mac): Promise<void> {
    await manager.query('UPDATE audit_chain_heads SET mac = $2, mac_key_id = $3 WHERE org_id = $1', [
      orgId,
      head.mac,
      head.keyId,
    ]);
  }
}

function eventParams(event: NewAuditEvent): unknown[] {
  return [
    event.orgId,
    event.action,
    event.actorType,
    event.actorId,
    event.actorName,
    event.requestId,
    event.ip,
    event.userAgent,
    JSON.stringify(event.details),
    event.clientRequestId,
  ];
}

export function smallestId(ids: (string | null)[]): string | null {
  const present = ids.filter((id): id is string => id !== null);
  return present.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0))[0] ?? null;
}

const MAX_ID = '9223372036854775807';

function whereClause(filter: AuditFilter): { where: string; params: unknown[] } {
  const conditions = ['org_id = $1'];
  const params: unknown[] = [filter.orgId];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.actions?.length) add('action = ANY(?)', filter.actions);
  if (filter.actorId !== undefined) add('actor_id = ?', filter.actorId);
  if (filter.actor !== undefined) {
    params.push(filter.actor);
    const n = `$${params.length}`;
    conditions.push(
      `(lower(actor_name) = lower(${n}) OR actor_id = ${n} OR (actor_type = 'system' AND lower(${n}) = 'system'))`,
    );
  }
  // Times come from the database clock under the per-org chain lock, so they rise with the id:
  // the window's first ids, found through the (org_id, occurred_at) index, bound an id-ordered scan.
  // The time conditions stay (an event outside the window is never listed, even if the clock once
  // stepped back), written `IS TRUE` so the planner does not also scan the time index for them: it
  // takes id and time for independent and, at a million events, chose to read the whole window
  // through both indexes and sort it (3.6 ms for a 1-hour window) over reading the newest 50 by id
  // (0.1 ms). occurred_at is NOT NULL, so `IS TRUE` changes no result.
  if (filter.since) {
    add('(occurred_at >= ?) IS TRUE', filter.since);
    conditions.push(
      `id >= COALESCE((SELECT id FROM audit_events WHERE org_id = $1 AND occurred_at >= $${params.length} ORDER BY occurred_at, id LIMIT 1), ${MAX_ID})`,
    );
  }
  if (filter.until) {
    add('(occurred_at < ?) IS TRUE', filter.until);
    conditions.push(
      `id < COALESCE((SELECT id FROM audit_events WHERE org_id = $1 AND occurred_at >= $${params.length} ORDER BY occurred_at, id LIMIT 1), ${MAX_ID})`,
    );
  }
  if (filter.beforeId !== undefined) add('id < ?', filter.beforeId);
  return { where: conditions.join(' AND '), params };
}
