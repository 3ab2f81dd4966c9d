import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One sweep over every connected org, which instances starting meanwhile join. */
@Entity({ name: 'revalidation_runs' })
export class RevalidationRunRow {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' })
  id!: string;

  @Column({ name: 'trigger', type: 'text' })
  trigger!: 'schedule' | 'manual';

  /** The scheduled minute, for scheduled runs: instances firing on one tick join one run. */
  @Column({ name: 'tick', type: 'timestamptz', nullable: true, unique: true })
  tick!: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' })
  startedAt!: Date;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', default: () => 'now()' })
  heartbeatAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
