import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Plan, SetupStatus, SubscriptionStatus } from '@docflow/contracts';

const bigintAsNumber = {
  to: (value: number) => value,
  from: (value: string | number) => Number(value),
};

/** One row per user, made once by the new-user setup. */
@Entity({ name: 'user_details' })
export class UserDetailsEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'display_name', type: 'varchar', length: 100 })
  displayName!: string;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  bio!: string | null;

  @Column({ type: 'varchar', length: 35 })
  locale!: string;

  @Column({ type: 'varchar', length: 64 })
  timezone!: string;

  @Column({ name: 'avatar_url', type: 'varchar', length: 2048, nullable: true })
  avatarUrl!: string | null;

  @Column({ type: 'varchar', length: 8 })
  plan!: Plan;

  @Column({ name: 'subscription_status', type: 'varchar', length: 16 })
  subscriptionStatus!: SubscriptionStatus;

  @Column({ name: 'max_documents', type: 'integer' })
  maxDocuments!: number;

  @Column({ name: 'max_storage_bytes', type: 'bigint', transformer: bigintAsNumber })
  maxStorageBytes!: number;

  @Column({ name: 'max_jobs_per_day', type: 'integer' })
  maxJobsPerDay!: number;

  @Column({ name: 'default_team_id', type: 'uuid', nullable: true })
  defaultTeamId!: string | null;

  @Column({ name: 'setup_status', type: 'varchar', length: 16 })
  setupStatus!: SetupStatus;

  /** The `identity.user.registered` event that made the row (the first one delivered). */
  @Column({ name: 'setup_event_id', type: 'varchar', length: 128 })
  setupEventId!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
