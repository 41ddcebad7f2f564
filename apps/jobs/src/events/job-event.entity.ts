import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { JobEventType } from '@docflow/contracts';

/** Every event of a job, as received or made; `(job_id, event_id)` is unique, so duplicates are dropped. */
@Entity({ name: 'job_events' })
@Index('UQ_job_events_job_event', ['jobId', 'eventId'], { unique: true })
@Index('IDX_job_events_pending', ['jobId', 'seq'], { where: 'pending' })
@Index('IDX_job_events_job_seq', ['jobId', 'seq'])
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

  /**
   * The event's sequence in the JetStream stream JOB_EVENTS (its SSE id), recorded when JetStream acknowledged
   * the outbox's publish. Null for an event not (yet) published, kept only for the record, or published before
   * the sequence was kept: the SSE history serves those with their row id (`pg-<seq>`).
   */
  @Column({ name: 'stream_seq', type: 'bigint', nullable: true })
  streamSeq!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
