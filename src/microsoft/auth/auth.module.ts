import { Module } from '@nestjs/common';
import { MicrosoftTransportModule } from '../microsoft-transport.module.js';
import { EntraTokenClient } from './entra-token.client.js';

/** Microsoft Entra ID: the client credentials token exchange. */
@Module({ imports: [MicrosoftTransportModule], providers: [EntraTokenClient], exports: [EntraTokenClient] })
export class AuthModule {}
