import { Module } from '@nestjs/common';
import { UpstreamHttp } from '../common/upstream-http.service.js';
import { DataverseClient } from './dataverse.client.js';

@Module({ providers: [UpstreamHttp, DataverseClient], exports: [DataverseClient] })
export class DynamicsClientModule {}
