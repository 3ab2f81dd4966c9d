import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SettingsModule } from '../settings/settings.module.js';
import { AccessController } from './access.controller.js';
import { AccessGuard } from './access.guard.js';
import { ConsoleSignInCode } from './console-sign-in-code.entity.js';
import { ConsoleSignInCodeRepository } from './console-sign-in-code.repository.js';
import { ConsoleSignIn } from './console-sign-in.js';
import { ConsoleSignInController } from './console-sign-in.controller.js';
import { TokenVerifier } from './token-verifier.js';

@Module({
  imports: [TypeOrmModule.forFeature([ConsoleSignInCode]), SettingsModule],
  controllers: [AccessController, ConsoleSignInController],
  providers: [
    TokenVerifier,
    ConsoleSignIn,
    ConsoleSignInCodeRepository,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
})
export class AccessModule {}
