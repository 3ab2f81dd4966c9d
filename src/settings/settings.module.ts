import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IntegrationSettings } from './settings.entity.js';
import { ConnectionHooks } from './connection-hooks.js';
import { SecretCipher } from './secret-cipher.js';
import { SettingsMetrics } from './settings.metrics.js';
import { SettingsRepository } from './settings.repository.js';
import { StoredCredentials } from './stored-credentials.js';

@Module({
  imports: [TypeOrmModule.forFeature([IntegrationSettings])],
  providers: [SettingsRepository, SecretCipher, SettingsMetrics, StoredCredentials, ConnectionHooks],
  exports: [SettingsRepository, SecretCipher, SettingsMetrics, StoredCredentials, ConnectionHooks],
})
export class SettingsModule {}
