import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { DynamicsClientModule } from '../dynamics-client/dynamics-client.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { CredentialVerifier } from './credential-verifier.service.js';
import { IntegrationController } from './integration.controller.js';
import { IntegrationService } from './integration.service.js';
import { VerificationRateLimiter } from './verification-rate-limiter.js';
import { VerificationRecorder } from './verification-recorder.service.js';

@Module({
  imports: [AuthModule, DynamicsClientModule, SettingsModule, AuditModule],
  controllers: [IntegrationController],
  providers: [IntegrationService, CredentialVerifier, VerificationRecorder, VerificationRateLimiter],
  exports: [IntegrationService, CredentialVerifier, VerificationRecorder],
})
export class IntegrationModule {}
