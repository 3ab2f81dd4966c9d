import { Module } from '@nestjs/common';
import { UpstreamHttp } from '../common/upstream-http.service.js';
import { EntraTokenClient } from './entra-token.client.js';

@Module({ providers: [UpstreamHttp, EntraTokenClient], exports: [EntraTokenClient] })
export class AuthModule {}
