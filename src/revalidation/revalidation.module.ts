import { Module } from '@nestjs/common';
import { IntegrationModule } from '../integration/integration.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { RevalidationMetrics } from './revalidation.metrics.js';
import { RevalidationRepository } from './revalidation.repository.js';
import { RevalidationService } from './revalidation.service.js';

@Module({
  imports: [IntegrationModule, SettingsModule],
  providers: [RevalidationService, RevalidationRepository, RevalidationMetrics],
  exports: [RevalidationService],
})
export class RevalidationModule {}
