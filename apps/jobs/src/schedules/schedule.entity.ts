import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type {
  JobStrategy,
  ScheduleCatchUp,
  ScheduleDocuments,
  ScheduleEvery,
  ScheduleJobOptions,
  Weekday,
} from '@docflow/contracts';

@Entity({ name: 'schedules' })
@Index('IDX_schedules_user_created_id', ['userId', 'createdAt', 'id'])
// What the scheduler's claim reads: enabled schedules by their next slot.
@Index('IDX_schedules_due', ['nextRunAt'], { where: '"enabled" = true' })
export class ScheduleEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  name!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  cron!: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  every!: ScheduleEvery | null;

  @Column({ type: 'varchar', length: 5, nullable: true })
  at!: string | null;

  @Column({ name: 'day_of_week', type: 'varchar', length: 9, nullable: true })
  dayOfWeek!: Weekday | null;

  @Column({ name: 'day_of_month', type: 'smallint', nullable: true })
  dayOfMonth!: number | null;

  @Column({ type: 'varchar', length: 64 })
  timezone!: string;

  @Column({ type: 'jsonb' })
  documents!: ScheduleDocuments;

  @Column({ type: 'varchar', length: 64 })
  crew!: string;

  @Column({ type: 'varchar', length: 16 })
  strategy!: JobStrategy;

  @Column({ type: 'jsonb', default: {} })
  options!: ScheduleJobOptions;

  @Column({ name: 'catch_up', type: 'varchar', length: 16 })
  catchUp!: ScheduleCatchUp;

  @Column({ type: 'boolean' })
  enabled!: boolean;

  /** The first slot not claimed yet; null while paused. */
  @Column({ name: 'next_run_at', type: 'timestamptz', nullable: true })
  nextRunAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
