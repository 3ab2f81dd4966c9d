import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../microsoft/auth/auth.module.js';
import { DynamicsClientModule } from '../microsoft/dynamics-client/dynamics-client.module.js';
import { MessagingClientModule } from '../microsoft/messaging-client/messaging-client.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { CredentialVerifier } from './credential-verifier.js';
import { ReadinessChecker } from './readiness-checker.js';
import { VerificationRecorder } from './verification-recorder.js';

/** The live check of credentials and how its result is recorded: used by integration and revalidation. */
@Module({
  imports: [AuthModule, DynamicsClientModule, MessagingClientModule, SettingsModule, AuditModule],
  providers: [CredentialVerifier, ReadinessChecker, VerificationRecorder],
  exports: [CredentialVerifier, VerificationRecorder],
})
export class VerificationModule {}
