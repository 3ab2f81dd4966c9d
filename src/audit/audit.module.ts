import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditChainHead, AuditEvent } from './audit-event.entity.js';
import { AuditChainKeys } from './audit-chain-keys.js';
import { AuditChainService } from './audit-chain.service.js';
import { AuditExpectations } from './audit-expectations.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditController } from './audit.controller.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent, AuditChainHead])],
  controllers: [AuditController],
  providers: [
    AuditService,
    AuditRepository,
    AuditQueryService,
    AuditChainKeys,
    AuditChainService,
    AuditExpectations,
  ],
  exports: [AuditService, AuditExpectations],
})
export class AuditModule {}
