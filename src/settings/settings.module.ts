import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IntegrationSettings } from './settings.entity.js';
import { PendingCertificate } from './pending-certificate.entity.js';
import { PendingCertificateRepository } from './pending-certificate.repository.js';
import { ConnectionHooks } from './connection-hooks.js';
import { SecretCipher } from './secret-cipher.js';
import { SettingsMetrics } from './settings.metrics.js';
import { SettingsRepository } from './settings.repository.js';
import { StoredCredentials } from './stored-credentials.js';

/** What the settings room provides to the rooms that import it. */
const PROVIDERS = [
  SettingsRepository,
  SecretCipher,
  SettingsMetrics,
  StoredCredentials,
  PendingCertificateRepository,
  ConnectionHooks,
];

@Module({
  imports: [TypeOrmModule.forFeature([IntegrationSettings, PendingCertificate])],
  providers: PROVIDERS,
  exports: PROVIDERS,
})
export class SettingsModule {}
