import { Module } from '@nestjs/common';
import { UpstreamHttp } from './upstream-http.js';

/** The one HTTP transport to Microsoft, provided once for every client. */
@Module({ providers: [UpstreamHttp], exports: [UpstreamHttp] })
export class MicrosoftTransportModule {}
