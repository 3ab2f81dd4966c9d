import { Readable } from 'node:stream';
import { Injectable, StreamableFile } from '@nestjs/common';
import type { Principal } from '../access/principal.js';
import { AppError } from '../common/errors.js';
import { AuditEventDto, AuditPageDto, AuditQueryDto, AuditVerificationDto } from './audit.dto.js';
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
  'ip',
  'user_agent',
  'details',
];

/** What admins read of the audit log: pages, a streamed CSV export, and the chain check. */
@Injectable()
export class AuditQueryService {
  constructor(private readonly repository: AuditRepository) {}

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
    const rows = await this.repository.page(
      { ...filterOf(principal, query), beforeId: query.cursor ? decodeCursor(query.cursor) : undefined },
      limit + 1,
    );
    const items = rows.slice(0, limit).map(toDto);
    return { items, next_cursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null };
  }

  exportCsv(principal: Principal, query: AuditQueryDto): StreamableFile {
    const filter = filterOf(principal, query);
    const repository = this.repository;
    async function* lines(): AsyncGenerator<string> {
      yield csvLine(CSV_HEADER);
      let beforeId = query.cursor ? decodeCursor(query.cursor) : undefined;
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

  /**
   * Recomputes the org's chain: every event must link to the previous one's hash and hash to its
   * stored value, and the last must be the chain head; the first event that does not is reported.
   */
  async verify(principal: Principal): Promise<AuditVerificationDto> {
    const chain = await this.repository.checkChain(principal.org_id);
    if (chain.firstBrokenId)
      return { ok: false, checked: chain.checkedBefore, first_broken_id: chain.firstBrokenId };
    const head = await this.repository.chainHead(principal.org_id);
    const headMatches = head
      ? head.last_id === chain.lastId &&
        head.last_hash === chain.lastHash &&
        Number(head.event_count) === chain.total
      : chain.total === 0;
    if (!headMatches)
      return { ok: false, checked: chain.total, first_broken_id: head?.last_id ?? chain.lastId };
    return { ok: true, checked: chain.total, first_broken_id: null };
  }
}

function wantsCsv(accept: string | undefined): boolean {
  return !!accept && /(^|,)\s*text\/csv\b/i.test(accept);
}

function filterOf(principal: Principal, query: AuditQueryDto): AuditFilter {
  const since = query.since ? new Date(query.since) : undefined;
  const until = query.until ? new Date(query.until) : undefined;
  if (since && until && since >= until) {
    throw AppError.validation([{ field: 'until', message: 'until must be later than since' }]);
  }
  return { orgId: principal.org_id, actions: query.action, actorId: query.actor_id, since, until };
}

/** Opaque to clients; it carries the id of the last event of the page. */
function encodeCursor(id: string): string {
  return Buffer.from(`v1:${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const match = /^v1:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match)
    throw AppError.validation([{ field: 'cursor', message: 'cursor is not a cursor this API returned' }]);
  return match[1];
}

function toDto(row: AuditRow): AuditEventDto {
  return {
    id: row.id,
    occurred_at: row.occurred_at.toISOString(),
    action: row.action,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    request_id: row.request_id,
    ip: row.ip,
    user_agent: row.user_agent,
    details: row.details,
  };
}
