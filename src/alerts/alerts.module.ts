import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { AlertDelivery } from './alert-delivery.entity.js';
import { Alert } from './alert.entity.js';
import { AlertFacts } from './alert-facts.js';
import { AlertsMetrics } from './alerts.metrics.js';
import { AlertsRepository } from './alerts.repository.js';
import { AlertsService } from './alerts.service.js';
import { NotificationSettings } from './notification-settings.entity.js';

/**
 * Alerts' conditions and the facts they follow: imported by the service and by the CLIs whose work
 * can open or resolve one (the sweep), so an alert is queued wherever its fact is learned.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([NotificationSettings, Alert, AlertDelivery]),
    SettingsModule,
    AuditModule,
  ],
  providers: [AlertsRepository, AlertsService, AlertsMetrics, AlertFacts],
  exports: [AlertsRepository, AlertsService, AlertsMetrics, AlertFacts],
})
export class AlertsModule {}
