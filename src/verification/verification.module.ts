import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../microsoft/auth/auth.module.js';
import { DynamicsClientModule } from '../microsoft/dynamics-client/dynamics-client.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { CredentialVerifier } from './credential-verifier.js';
import { VerificationRecorder } from './verification-recorder.js';

/** The live check of credentials and how its result is recorded: used by integration and revalidation. */
@Module({
  imports: [AuthModule, DynamicsClientModule, SettingsModule, AuditModule],
  providers: [CredentialVerifier, VerificationRecorder],
  exports: [CredentialVerifier, VerificationRecorder],
})
export class VerificationModule {}
