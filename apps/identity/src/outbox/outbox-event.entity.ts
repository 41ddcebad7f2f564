import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An event to publish on JetStream, written in the same transaction as the change it reports, so it is
 * published at least once whatever fails after the commit (the relay retries until JetStream acknowledges).
 */
@Entity({ name: 'outbox' })
@Index('IDX_outbox_pending', ['createdAt'], { where: 'published_at IS NULL' })
export class OutboxEventEntity {
  /** The event id; also the JetStream message id (duplicates within the stream's window are dropped). */
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  subject!: string;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError!: string | null;
}
