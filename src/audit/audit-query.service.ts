import { Readable } from 'node:stream';
import { Injectable, StreamableFile } from '@nestjs/common';
import type { Principal } from '../access/principal.js';
import { AppError } from '../common/errors.js';
import { AUDIT_ACTIONS, AuditAction } from './audit-action.js';
import { AuditEventDto, AuditPageDto, AuditQueryDto, AuditVerificationDto } from './audit.dto.js';
import { AuditChainService } from './audit-chain.service.js';
import { AuditFilter, AuditRepository, AuditRow } from './audit.repository.js';
import { csvLine } from './csv.js';

const DEFAULT_LIMIT = 50;
const EXPORT_BATCH = 1000;
const CSV_HEADER = [
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
];

/** What admins read of the audit log: pages, a streamed CSV export, and the chain check. */
@Injectable()
export class AuditQueryService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly chain: AuditChainService,
  ) {}

  /** JSON pages, or the whole filtered log as CSV when the client asks for text/csv. */
  read(
    principal: Principal,
    query: AuditQueryDto,
    accept: string | undefined,
  ): Promise<AuditPageDto> | StreamableFile {
    return wantsCsv(accept) ? this.exportCsv(principal, query) : this.page(principal, query);
  }

  async page(principal: Principal, query: AuditQueryDto): Promise<AuditPageDto> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const { filters, beforeId } = resolveFilters(query);
    const rows = await this.repository.page({ ...filterOf(principal, filters), beforeId }, limit + 1);
    const items = rows.slice(0, limit).map(toDto);
    return {
      items,
      next_cursor: rows.length > limit ? encodeCursor(items[items.length - 1].id, filters) : null,
    };
  }

  exportCsv(principal: Principal, query: AuditQueryDto): StreamableFile {
    const resolved = resolveFilters(query);
    const filter = filterOf(principal, resolved.filters);
    const repository = this.repository;
    async function* lines(): AsyncGenerator<string> {
      yield csvLine(CSV_HEADER);
      let beforeId = resolved.beforeId;
      for (;;) {
        const rows = await repository.page({ ...filter, beforeId }, EXPORT_BATCH);
        for (const row of rows) {
          yield csvLine([
            row.id,
            row.occurred_at.toISOString(),
            row.action,
            row.actor_type,
            row.actor_id,
            row.actor_name,
            row.request_id,
            row.client_request_id,
            row.ip,
            row.user_agent,
            JSON.stringify(row.details),
          ]);
        }
        if (rows.length < EXPORT_BATCH) return;
        beforeId = rows[rows.length - 1].id;
      }
    }
    return new StreamableFile(Readable.from(lines()), {
      type: 'text/csv; charset=utf-8',
      disposition: `attachment; filename="audit-events-${principal.org_id}.csv"`,
    });
  }

  /** The org's chain, checked end to end (see AuditChainService). */
  async verify(principal: Principal): Promise<AuditVerificationDto> {
    const result = await this.chain.verify(principal.org_id);
    return {
      ok: result.ok,
      checked: result.checked,
      first_broken_id: result.firstBrokenId,
      problem: result.problem ?? null,
    };
  }
}

function wantsCsv(accept: string | undefined): boolean {
  return !!accept && /(^|,)\s*text\/csv\b/i.test(accept);
}

/** The filters a page or export applies: the query's, which a cursor carries forward. */
interface Filters {
  action?: AuditAction[];
  actor_id?: string;
  actor?: string;
  since?: string;
  until?: string;
}

function filterOf(principal: Principal, filters: Filters): AuditFilter {
  const since = filters.since ? new Date(filters.since) : undefined;
  const until = filters.until ? new Date(filters.until) : undefined;
  if (since && until && since >= until) {
    throw AppError.validation([{ field: 'until', message: 'until must be later than since' }]);
  }
  return {
    orgId: principal.org_id,
    actions: filters.action,
    actorId: filters.actor_id,
    actor: filters.actor,
    since,
    until,
  };
}

function filtersOf(query: AuditQueryDto): Filters {
  return {
    ...(query.action?.length ? { action: [...new Set(query.action)].sort() } : {}),
    ...(query.actor_id !== undefined ? { actor_id: query.actor_id } : {}),
    ...(query.actor?.trim() ? { actor: query.actor.trim() } : {}),
    ...(query.since !== undefined ? { since: new Date(query.since).toISOString() } : {}),
    ...(query.until !== undefined ? { until: new Date(query.until).toISOString() } : {}),
  };
}

/**
 * A cursor continues the listing it came from: its filters apply whether or not the request
 * repeats them, and a request that states other filters is refused rather than answered with a
 * page of another listing.
 */
function resolveFilters(query: AuditQueryDto): { filters: Filters; beforeId?: string } {
  const stated = filtersOf(query);
  if (!query.cursor) return { filters: stated };
  const cursor = decodeCursor(query.cursor);
  if (Object.keys(stated).length > 0 && JSON.stringify(stated) !== JSON.stringify(cursor.filters)) {
    throw AppError.validation([
      {
        field: 'cursor',
        message: 'cursor belongs to a listing with other filters: repeat the same filters, or send none',
      },
    ]);
  }
  return { filters: cursor.filters, beforeId: cursor.beforeId };
}

/** Largest bigint: ids beyond it are not ids this API returned. */
const MAX_ID = 9223372036854775807n;

/** Opaque to clients; it carries the id of the last event of the page and the listing's filters. */
function encodeCursor(id: string, filters: Filters): string {
  return Buffer.from(JSON.stringify({ v: 2, id, f: filters }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { beforeId: string; filters: Filters } {
  const invalid = () =>
    AppError.validation([{ field: 'cursor', message: 'cursor is not a cursor this API returned' }]);
  let parsed: { v?: unknown; id?: unknown; f?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    throw invalid();
  }
  const { v, id, f } = parsed ?? {};
  if (v !== 2 || typeof id !== 'string' || !/^\d{1,19}$/.test(id) || BigInt(id) > MAX_ID) throw invalid();
  if (!f || typeof f !== 'object' || Array.isArray(f)) throw invalid();
  const filters = f as Filters;
  const valid =
    (filters.action === undefined ||
      (Array.isArray(filters.action) && filters.action.every((a) => AUDIT_ACTIONS.includes(a)))) &&
    (filters.actor_id === undefined || typeof filters.actor_id === 'string') &&
    (filters.actor === undefined || typeof filters.actor === 'string') &&
    [filters.since, filters.until].every(
      (t) => t === undefined || (typeof t === 'string' && !isNaN(Date.parse(t))),
    );
  if (!valid) throw invalid();
  return { beforeId: id, filters };
}

function toDto(row: AuditRow): AuditEventDto {
  return {
    id: row.id,
    occurred_at: row.occurred_at.toISOString(),
    action: row.action,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    request_id: row.request_id,
    client_request_id: row.client_request_id,
    ip: row.ip,
    user_agent: row.user_agent,
    details: row.details,
  };
}
