import { Module } from '@nestjs/common';
import { LimitsModule } from '../../limits/limits.module.js';
import { MicrosoftTransportModule } from '../microsoft-transport.module.js';
import { DataverseClient } from './dataverse.client.js';

/** The Dataverse Web API of an org's Dynamics 365 environment. */
@Module({
  imports: [MicrosoftTransportModule, LimitsModule],
  providers: [DataverseClient],
  exports: [DataverseClient],
})
export class DynamicsClientModule {}
