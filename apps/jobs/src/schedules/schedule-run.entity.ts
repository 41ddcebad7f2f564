import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { ScheduleRunStatus } from '@docflow/contracts';
import { ScheduleEntity } from './schedule.entity';

/**
 * One slot of a schedule, claimed once: the unique (schedule_id, slot_at) is what keeps a slot from running
 * twice, whatever the number of scheduler replicas and restarts.
 */
@Entity({ name: 'schedule_runs' })
@Index('UQ_schedule_runs_schedule_slot', ['scheduleId', 'slotAt'], { unique: true })
@Index('IDX_schedule_runs_schedule_created_id', ['scheduleId', 'createdAt', 'id'])
@Index('IDX_schedule_runs_pending', ['nextAttemptAt'], { where: `"status" = 'pending'` })
export class ScheduleRunEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'schedule_id', type: 'uuid' })
  scheduleId!: string;

  @ManyToOne(() => ScheduleEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'schedule_id' })
  schedule?: ScheduleEntity;

  @Column({ name: 'slot_at', type: 'timestamptz' })
  slotAt!: Date;

  @Column({ type: 'varchar', length: 16 })
  status!: ScheduleRunStatus;

  @Column({ name: 'job_ids', type: 'uuid', array: true, default: () => "'{}'" })
  jobIds!: string[];

  @Column({ name: 'document_count', type: 'int', nullable: true })
  documentCount!: number | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  /** A pending run is not tried again before this (backoff after a transient failure). */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
