import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SettingsModule } from '../settings/settings.module.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), SettingsModule],
  controllers: [HealthController],
})
export class HealthModule {}
