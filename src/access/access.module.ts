import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessController } from './access.controller.js';
import { AccessGuard } from './access.guard.js';
import { TokenVerifier } from './token-verifier.js';

@Module({
  controllers: [AccessController],
  providers: [TokenVerifier, { provide: APP_GUARD, useClass: AccessGuard }],
})
export class AccessModule {}
