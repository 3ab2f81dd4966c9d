import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataverseBudget } from './dataverse-budget.js';
import { DataverseBudgetRepository } from './dataverse-budget.repository.js';
import { DataverseCallSlot } from './dataverse-call-slot.entity.js';
import { DataverseEnvironmentPause } from './dataverse-environment-pause.entity.js';
import { LimitsMetrics } from './limits.metrics.js';

/** The call budget of each Dataverse environment across instances (DESIGN.md §14). */
@Module({
  imports: [TypeOrmModule.forFeature([DataverseCallSlot, DataverseEnvironmentPause])],
  providers: [DataverseBudget, DataverseBudgetRepository, LimitsMetrics],
  exports: [DataverseBudget],
})
export class LimitsModule {}
