import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { VerificationModule } from '../verification/verification.module.js';
import { IntegrationController } from './integration.controller.js';
import { IntegrationService } from './integration.service.js';
import { IntegrationCertificates } from './integration-certificates.js';
import { VerificationRateLimit } from './verification-rate-limit.entity.js';
import { VerificationRateLimiter } from './verification-rate-limiter.js';
import { VerificationRateLimitRepository } from './verification-rate-limit.repository.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([VerificationRateLimit]),
    VerificationModule,
    SettingsModule,
    AuditModule,
  ],
  controllers: [IntegrationController],
  providers: [
    IntegrationService,
    IntegrationCertificates,
    VerificationRateLimiter,
    VerificationRateLimitRepository,
  ],
})
export class IntegrationModule {}
