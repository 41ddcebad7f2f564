import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { JobEventType } from '@docflow/contracts';

/** Every event of a job, as received or made; `(job_id, event_id)` is unique, so duplicates are dropped. */
@Entity({ name: 'job_events' })
@Index('UQ_job_events_job_event', ['jobId', 'eventId'], { unique: true })
@Index('IDX_job_events_pending', ['jobId', 'seq'], { where: 'pending' })
export class JobEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  @Column({ name: 'job_id', type: 'uuid' })
  jobId!: string;

  @Column({ name: 'event_id', type: 'varchar', length: 300 })
  eventId!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: JobEventType;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  /**
   * The transactional outbox: true while the event still has to reach JetStream. Set in the same transaction
   * that applies the event, cleared once JetStream acknowledged it. Events kept only for the record (a late
   * callback to a finished job) are never published.
   */
  @Column({ type: 'boolean', default: false })
  pending!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
