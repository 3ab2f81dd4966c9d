import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Until when Dataverse asked (a 429's Retry-After) that no instance call this environment. */
@Entity({ name: 'dataverse_environment_pauses' })
export class DataverseEnvironmentPause {
  /** The environment's host, lower case. */
  @PrimaryColumn({ name: 'environment', type: 'text' })
  environment!: string;

  @Column({ name: 'paused_until', type: 'timestamptz' })
  pausedUntil!: Date;

  /** Dataverse's error code on the 429 (which limit), when it sent one. */
  @Column({ name: 'code', type: 'text', nullable: true })
  code!: string | null;
}
