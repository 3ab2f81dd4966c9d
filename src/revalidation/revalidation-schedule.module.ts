import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { RevalidationModule } from './revalidation.module.js';
import { RevalidationScheduler } from './revalidation.scheduler.js';

/** The nightly trigger; only the HTTP service imports it (the CLI runs one sweep and exits). */
@Module({ imports: [ScheduleModule.forRoot(), RevalidationModule], providers: [RevalidationScheduler] })
export class RevalidationScheduleModule {}
