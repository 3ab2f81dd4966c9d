import { Module } from '@nestjs/common';
import { SecretCipher } from './secret-cipher.service.js';
import { SettingsMetrics } from './settings-metrics.js';
import { SettingsRepository } from './settings.repository.js';
import { StoredCredentials } from './stored-credentials.service.js';

@Module({
  providers: [SettingsRepository, SecretCipher, SettingsMetrics, StoredCredentials],
  exports: [SettingsRepository, SecretCipher, SettingsMetrics, StoredCredentials],
})
export class SettingsModule {}
