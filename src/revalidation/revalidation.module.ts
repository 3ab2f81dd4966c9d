import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SettingsModule } from '../settings/settings.module.js';
import { VerificationModule } from '../verification/verification.module.js';
import { RevalidationRunRow } from './revalidation-run.entity.js';
import { RevalidationMetrics } from './revalidation.metrics.js';
import { RevalidationRepository } from './revalidation.repository.js';
import { RevalidationService } from './revalidation.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([RevalidationRunRow]), VerificationModule, SettingsModule],
  providers: [RevalidationService, RevalidationRepository, RevalidationMetrics],
  exports: [RevalidationService],
})
export class RevalidationModule {}
