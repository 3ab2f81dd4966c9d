// Customer data (DESIGN §13): sealing what older versions stored in plain text (at start, a batch at
// a time, resumable), the retention purge (from the maintenance pass), and erasure on request.
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Principal } from '../../access/principal.js';
import { AuditContext, AuditService } from '../../audit/audit.service.js';
import { AppError } from '../../common/errors.js';
import { AppConfig } from '../../config/app-config.js';
import { CustomerData } from '../customer-data.js';
import { CustomerDataRepository } from '../customer-data.repository.js';
import { stableJson } from './handoff.service.js';
import type { EraseCustomerDataDto, ErasureResultDto } from './customer-data.dto.js';

const BATCH = 200;

@Injectable()
export class CustomerDataService implements OnApplicationBootstrap {
  private readonly logger = new Logger(CustomerDataService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly repository: CustomerDataRepository,
    private readonly customerData: CustomerData,
    private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    void this.sealLegacy().catch((error: unknown) =>
      this.logger.error(
        `Sealing stored customer data failed; the next start resumes: ${(error as Error).message}`,
      ),
    );
  }

  /** Seals every handoff and event an older version stored in plain text; returns how many. */
  async sealLegacy(): Promise<{ handoffs: number; events: number }> {
    const done = { handoffs: 0, events: 0 };
    for (;;) {
      const sealed = await this.repository.transaction(async (manager) => {
        const rows = await this.repository.unsealedHandoffs(manager, BATCH);
        for (const row of rows) {
          const request = row.request;
          const content = this.customerData.sealRequest(row.org_id, row.session_id, request);
          const email = request.customer?.email;
          const phone = request.customer?.phone;
          await this.repository.sealHandoff(manager, row.id, {
            content: content.ciphertext,
            keyId: content.keyId,
            requestHash: this.customerData.hash('request', stableJson(request)),
            emailHash: email ? this.customerData.hash('email', CustomerData.normalise('email', email)) : null,
            phoneHash: phone ? this.customerData.hash('phone', CustomerData.normalise('phone', phone)) : null,
          });
        }
        return rows.length;
      });
      done.handoffs += sealed;
      if (sealed < BATCH) break;
    }
    for (;;) {
      const sealed = await this.repository.transaction(async (manager) => {
        const rows = await this.repository.unsealedEvents(manager, BATCH);
        for (const row of rows) {
          const content = this.customerData.seal(row.org_id, row.handoff_id, 'handoff_events.data', row.data);
          await this.repository.sealEvent(manager, row.id, {
            content: content.ciphertext,
            keyId: content.keyId,
          });
        }
        return rows.length;
      });
      done.events += sealed;
      if (sealed < BATCH) break;
    }
    if (done.handoffs || done.events) {
      this.logger.log(done, 'Sealed customer data an older version stored in plain text');
    }
    return done;
  }

  /** The retention pass: content of handoffs ended HANDOFF_RETENTION ago, purged; how many. */
  async purgeExpired(): Promise<number> {
    let total = 0;
    for (;;) {
      const purged = await this.repository.purgeEnded(this.config.handoffRetentionMs, BATCH);
      total += purged;
      if (purged < BATCH) break;
    }
    if (total)
      this.logger.log({ handoffs: total }, 'Purged the content of ended handoffs (HANDOFF_RETENTION)');
    return total;
  }

  /** Erases, at once, everything of one customer in the org's handoffs; what stays in Dynamics. */
  async erase(
    principal: Principal,
    dto: EraseCustomerDataDto,
    context: AuditContext,
  ): Promise<ErasureResultDto> {
    const given = (['email', 'phone', 'session_id'] as const).filter((k) => dto[k] !== undefined);
    if (given.length !== 1) {
      throw AppError.validation([
        { field: 'body', message: 'give exactly one of email, phone or session_id' },
      ]);
    }
    const kind = given[0];
    const value = dto[kind]!;
    const normalised = CustomerData.normalise(kind === 'session_id' ? 'session' : kind, value);
    if (normalised === '') throw AppError.validation([{ field: kind, message: `${kind} must not be empty` }]);
    const orgId = principal.org_id;
    const result = await this.repository.transaction(async (manager) => {
      const rows = await this.repository.erase(manager, orgId, {
        sessionId: kind === 'session_id' ? normalised : undefined,
        emailHashes: kind === 'email' ? this.customerData.hashesOf('email', normalised) : undefined,
        phoneHashes: kind === 'phone' ? this.customerData.hashesOf('phone', normalised) : undefined,
      });
      const records = new Map<string, { type: string; id: string }>();
      for (const row of rows) {
        if (row.ticket_number) {
          records.set(`incident:${row.incident_id}`, { type: 'incident', id: row.incident_id });
          records.set(`annotation:${row.note_id}`, { type: 'annotation', id: row.note_id });
        }
        if (row.contact_id && row.contact_created) {
          records.set(`contact:${row.contact_id}`, { type: 'contact', id: row.contact_id });
        }
        if (row.conversation_id) {
          records.set(`conversation:${row.conversation_id}`, {
            type: 'conversation',
            id: row.conversation_id,
          });
        }
      }
      const answer = {
        handoffs_erased: rows.filter((r) => r.purged).length,
        dynamics_records: [...records.values()],
      };
      // The identifier's keyed hash, never the identifier.
      await this.audit.record(manager, orgId, 'customer_data.erased', context, {
        identifier: kind,
        identifier_hash: this.customerData.hash(`audit:${kind}`, normalised),
        handoffs_matched: rows.length,
        handoffs_erased: answer.handoffs_erased,
        dynamics_records: answer.dynamics_records.length,
      });
      return answer;
    });
    this.logger.log(
      { org_id: orgId, identifier: kind, handoffs_erased: result.handoffs_erased },
      'Customer data erased',
    );
    return result;
  }
}
