import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { AlertMaintenance } from './alert-maintenance.js';
import { AlertSender } from './alert-sender.js';
import { AlertsModule } from './alerts.module.js';
import { NotificationsController } from './notifications.controller.js';
import { NotificationsService } from './notifications.service.js';

/** What only the running service does with alerts: the API, sending the notices, the periodic pass. */
@Module({
  imports: [AlertsModule, SettingsModule, AuditModule],
  controllers: [NotificationsController],
  providers: [NotificationsService, AlertSender, AlertMaintenance],
})
export class AlertsHttpModule {}
