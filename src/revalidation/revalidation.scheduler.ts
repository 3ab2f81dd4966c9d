import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AppConfig } from '../config/app-config.js';
import { RevalidationService } from './revalidation.service.js';

/**
 * Runs the sweep on REVALIDATION_CRON (UTC) on every instance; instances firing on the same tick
 * join one run (the tick is the run's key), so orgs are not verified twice. Registered through
 * SchedulerRegistry because the expression comes from configuration.
 */
@Injectable()
export class RevalidationScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(RevalidationScheduler.name);

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly revalidation: RevalidationService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.revalidationCron === 'off') return;
    const job = CronJob.from({
      cronTime: this.config.revalidationCron,
      timeZone: 'UTC',
      onTick: () => void this.runScheduledSweep(new Date()),
    });
    this.registry.addCronJob('dynamics365-revalidation', job);
    job.start();
  }

  /** The scheduled entry point: one call into the service; never throws into the scheduler. */
  async runScheduledSweep(firedAt: Date): Promise<void> {
    await this.revalidation.sweep('schedule', tickOf(firedAt)).catch((error: unknown) => {
      this.logger.error(`Scheduled revalidation failed: ${(error as Error).message}`);
    });
  }
}

/** The scheduled minute, identical on every instance whatever its timer jitter. */
function tickOf(firedAt: Date): Date {
  return new Date(Math.floor(firedAt.getTime() / 60_000) * 60_000);
}
