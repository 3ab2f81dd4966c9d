import { Module } from '@nestjs/common';
import { MicrosoftTransportModule } from '../microsoft-transport.module.js';
import { EntraSigningKeys } from './entra-signing-keys.js';
import { EntraTokenClient } from './entra-token.client.js';

/** Microsoft Entra ID: the client credentials token exchange, and the keys that check its tokens. */
@Module({
  imports: [MicrosoftTransportModule],
  providers: [EntraTokenClient, EntraSigningKeys],
  exports: [EntraTokenClient, EntraSigningKeys],
})
export class AuthModule {}
