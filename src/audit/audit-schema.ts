// The audit log's database code, defined once: the content hash every writer computes in its
// INSERT and the check recomputes, and the triggers that keep audit_events append-only. The
// migrations that install them import these; the repository builds its statements from the same
// field list, so the hash a writer stores and the one a check recomputes cannot drift apart.

/** The fields audit_event_hash covers, in its argument order. */
export const HASHED_FIELDS = [
  'prev_hash',
  'id',
  'org_id',
  'occurred_at',
  'action',
  'actor_type',
  'actor_id',
  'actor_name',
  'request_id',
  'ip',
  'user_agent',
  'details',
  'client_request_id',
] as const;

/** `audit_event_hash(…)` over a row (`alias.field`), with any field given as another expression. */
export function hashOf(
  alias: string,
  fields: Partial<Record<(typeof HASHED_FIELDS)[number], string>> = {},
): string {
  return `audit_event_hash(${HASHED_FIELDS.map((name) => fields[name] ?? `${alias}.${name}`).join(', ')})`;
}

/**
 * The content hash: every field SQL-quoted (so NULL, '' and commas cannot be confused), the time
 * as epoch microseconds, `details` as canonical jsonb text (jsonb orders keys deterministically),
 * joined by commas after the previous hash; hash = hex SHA-256 of that text. `client_request_id`
 * last, through concat_ws, which skips NULLs: events without one hash as before it existed.
 * STABLE, not IMMUTABLE: PostgreSQL inlines a SQL function only when its body's functions are at
 * least as stable as declared (convert_to is STABLE), and inlining makes the check ~2.7× faster.
 */
export const AUDIT_EVENT_HASH = {
  signature:
    'audit_event_hash(text, bigint, text, timestamptz, text, text, text, text, text, text, text, jsonb, text)',
  create: `
    CREATE FUNCTION audit_event_hash(
      prev_hash text, id bigint, org_id text, occurred_at timestamptz, action text, actor_type text,
      actor_id text, actor_name text, request_id text, ip text, user_agent text, details jsonb,
      client_request_id text
    ) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
      SELECT encode(sha256(convert_to(concat_ws(',',
        quote_nullable(prev_hash),
        id::text,
        quote_literal(org_id),
        (extract(epoch FROM occurred_at) * 1000000)::bigint::text,
        quote_literal(action),
        quote_literal(actor_type),
        quote_nullable(actor_id),
        quote_nullable(actor_name),
        quote_nullable(request_id),
        quote_nullable(ip),
        quote_nullable(user_agent),
        details::text,
        quote_literal(client_request_id)), 'UTF8')), 'hex')
    $$`,
} as const;

/**
 * Refuses every UPDATE, DELETE and TRUNCATE of audit_events, but one: sealing an event written
 * before the chain was keyed (setting its MAC once, nothing else), which the service does at start.
 */
export const AUDIT_REFUSE_CHANGE = `
  CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'UPDATE' AND OLD.mac IS NULL AND NEW.mac IS NOT NULL AND NEW.mac_key_id IS NOT NULL
       AND ROW(NEW.id, NEW.org_id, NEW.occurred_at, NEW.action, NEW.actor_type, NEW.actor_id, NEW.actor_name,
               NEW.request_id, NEW.ip, NEW.user_agent, NEW.details, NEW.prev_hash, NEW.hash, NEW.client_request_id)
           IS NOT DISTINCT FROM
           ROW(OLD.id, OLD.org_id, OLD.occurred_at, OLD.action, OLD.actor_type, OLD.actor_id, OLD.actor_name,
               OLD.request_id, OLD.ip, OLD.user_agent, OLD.details, OLD.prev_hash, OLD.hash, OLD.client_request_id)
    THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
  END $$`;

/** The triggers that call it: on every row changed, and on TRUNCATE. */
export const AUDIT_TRIGGERS = [
  `CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
     FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()`,
  `CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
     FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`,
] as const;

/**
 * A chain head only moves forward: it may be created and advanced (a later last event, a larger
 * count, its MAC with them), never deleted, truncated or moved back — so cutting an org's chain
 * short or erasing it needs its triggers disabled, which only the tables' owner can do.
 */
export const AUDIT_HEADS_REFUSE_CHANGE = `
  CREATE FUNCTION audit_chain_heads_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'UPDATE' AND NEW.org_id = OLD.org_id AND NEW.last_id >= OLD.last_id
       AND NEW.event_count >= OLD.event_count THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_chain_heads only advance: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
  END $$`;

export const AUDIT_HEADS_TRIGGERS = [
  `CREATE TRIGGER audit_chain_heads_only_advance BEFORE UPDATE OR DELETE ON audit_chain_heads
     FOR EACH ROW EXECUTE FUNCTION audit_chain_heads_refuse_change()`,
  `CREATE TRIGGER audit_chain_heads_no_truncate BEFORE TRUNCATE ON audit_chain_heads
     FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_heads_refuse_change()`,
  'ALTER TABLE audit_chain_heads ENABLE ALWAYS TRIGGER audit_chain_heads_only_advance',
  'ALTER TABLE audit_chain_heads ENABLE ALWAYS TRIGGER audit_chain_heads_no_truncate',
] as const;

/**
 * What the role the service runs as may do with the audit tables (it owns none of them): read and
 * append events, seal an unsealed one (its MAC columns), and create and advance chain heads.
 */
export function auditRuntimeLimits(role: string): readonly string[] {
  return [
    `REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM ${role}`,
    `GRANT UPDATE (mac, mac_key_id) ON audit_events TO ${role}`,
    `REVOKE DELETE, TRUNCATE ON audit_chain_heads FROM ${role}`,
  ];
}
