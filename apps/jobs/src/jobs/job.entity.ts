import { Column, Entity, Index, OneToMany, PrimaryColumn } from 'typeorm';
import type { JobStatus, JobStrategy } from '@docflow/contracts';
import { JobDocumentEntity } from './job-document.entity';

@Entity({ name: 'jobs' })
@Index('IDX_jobs_user_created_id', ['userId', 'createdAt', 'id'])
@Index('IDX_jobs_team_created_id', ['teamId', 'createdAt', 'id'], { where: '"team_id" IS NOT NULL' })
// An Idempotency-Key is scoped per owner: the user for the user's own jobs, the team for the team's.
@Index('UQ_jobs_user_idempotency', ['userId', 'idempotencyKey'], {
  unique: true,
  where: '"idempotency_key" IS NOT NULL AND "team_id" IS NULL',
})
@Index('UQ_jobs_team_idempotency', ['teamId', 'idempotencyKey'], {
  unique: true,
  where: '"idempotency_key" IS NOT NULL AND "team_id" IS NOT NULL',
})
export class JobEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** The owner, or for a team's job the member who started it. */
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** The team that owns the job (its documents, outputs and semaphore); null for the user's own job. */
  @Column({ name: 'team_id', type: 'uuid', nullable: true })
  teamId!: string | null;

  @Column({ type: 'varchar', length: 32 })
  status!: JobStatus;

  @Column({ type: 'varchar', length: 64 })
  crew!: string;

  @Column({ type: 'varchar', length: 16 })
  strategy!: JobStrategy;

  @Column({ type: 'jsonb', default: {} })
  params!: Record<string, string>;

  @Column({ type: 'jsonb' })
  model!: { provider: string; model: string };

  @Column({ name: 'doc_ids', type: 'uuid', array: true })
  docIds!: string[];

  @Column({ name: 'idempotency_key', type: 'varchar', length: 255, nullable: true })
  idempotencyKey!: string | null;

  /**
   * SHA-256 (hex) of the normalized request (see `jobRequestHash`): the same Idempotency-Key with another request
   * is refused. Null for jobs created before it was recorded.
   */
  @Column({ name: 'request_hash', type: 'varchar', length: 64, nullable: true })
  requestHash!: string | null;

  @Column({ type: 'varchar', length: 16 })
  engine!: 'local' | 'argo';

  @Column({ name: 'workflow_name', type: 'varchar', length: 63, nullable: true })
  workflowName!: string | null;

  /** The stored provider key the steps use (granted to this job by the vault until it ends). */
  @Column({ name: 'api_key_id', type: 'uuid', nullable: true })
  apiKeyId!: string | null;

  @Column({ name: 'manifest_key', type: 'varchar', length: 1024 })
  manifestKey!: string;

  /** The per-job HMAC secret of the steps' callbacks. Never in a response, a log or a workflow parameter. */
  @Column({ name: 'callback_secret', type: 'varchar', length: 128 })
  callbackSecret!: string;

  @Column({ name: 'chunk_count', type: 'int' })
  chunkCount!: number;

  /**
   * Counters kept with the job row as events apply, so a callback touches one input and the job, never all
   * the job's inputs: how many inputs, how many still pending or running, how many completed, and the sum of
   * the inputs' progress (a finished input counts 100).
   */
  @Column({ name: 'inputs_total', type: 'int', default: 0 })
  inputsTotal!: number;

  @Column({ name: 'inputs_open', type: 'int', default: 0 })
  inputsOpen!: number;

  @Column({ name: 'inputs_completed', type: 'int', default: 0 })
  inputsCompleted!: number;

  @Column({ name: 'progress_sum', type: 'int', default: 0 })
  progressSum!: number;

  @Column({ type: 'jsonb', default: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } })
  usage!: { inputTokens: number; outputTokens: number; totalTokens: number };

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'submitted_at', type: 'timestamptz', nullable: true })
  submittedAt!: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @OneToMany(() => JobDocumentEntity, (d) => d.job)
  documents?: JobDocumentEntity[];
}
