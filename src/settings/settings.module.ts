import { Module } from '@nestjs/common';
import { SecretCipher } from './secret-cipher.service.js';
import { SettingsRepository } from './settings.repository.js';

@Module({ providers: [SettingsRepository, SecretCipher], exports: [SettingsRepository, SecretCipher] })
export class SettingsModule {}
