import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One of an environment's DATAVERSE_MAX_CONCURRENCY call slots, all instances together: free, or
 * held by an instance until its lease runs out (renewed while the instance lives).
 */
@Entity({ name: 'dataverse_call_slots' })
export class DataverseCallSlot {
  /** The environment's host, lower case. */
  @PrimaryColumn({ name: 'environment', type: 'text' })
  environment!: string;

  @PrimaryColumn({ name: 'slot', type: 'smallint' })
  slot!: number;

  /** The instance holding it; null when free. */
  @Column({ name: 'holder', type: 'uuid', nullable: true })
  holder!: string | null;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil!: Date | null;
}
