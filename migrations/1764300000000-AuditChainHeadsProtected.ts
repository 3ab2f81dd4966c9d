import type { MigrationInterface, QueryRunner } from 'typeorm';
import { AUDIT_HEADS_REFUSE_CHANGE, AUDIT_HEADS_TRIGGERS } from '../src/audit/audit-schema.js';

/** The audit chain heads are protected like the events: they only advance (see audit-schema.ts). */
export class AuditChainHeadsProtected1764300000000 implements MigrationInterface {
  name = 'AuditChainHeadsProtected1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(AUDIT_HEADS_REFUSE_CHANGE);
    for (const statement of AUDIT_HEADS_TRIGGERS) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER audit_chain_heads_no_truncate ON audit_chain_heads');
    await queryRunner.query('DROP TRIGGER audit_chain_heads_only_advance ON audit_chain_heads');
    await queryRunner.query('DROP FUNCTION audit_chain_heads_refuse_change()');
  }
}
