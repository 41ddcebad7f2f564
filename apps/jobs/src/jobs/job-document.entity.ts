import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { JobDocumentStatus, JobStage } from '@docflow/contracts';
import { JobEntity } from './job.entity';

/** One input of a job (one document, or all of them with the combined strategy). */
@Entity({ name: 'job_inputs' })
// GIN over `doc_ids` (the jobs that include a document: `doc_ids @> ARRAY[id]`). TypeORM cannot declare a GIN
// index, so the migration JobListFilters creates it and the schema diff leaves it alone.
@Index('IDX_job_inputs_doc_ids', { synchronize: false })
export class JobDocumentEntity {
  @PrimaryColumn({ name: 'job_id', type: 'uuid' })
  jobId!: string;

  @PrimaryColumn({ name: 'input_id', type: 'varchar', length: 128 })
  inputId!: string;

  @ManyToOne(() => JobEntity, (j) => j.documents, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'FK_job_inputs_job' })
  job?: JobEntity;

  @Column({ name: 'doc_ids', type: 'uuid', array: true })
  docIds!: string[];

  /** What the output is named after: the document's name, or `combined`. */
  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ name: 'chunk', type: 'int' })
  chunk!: number;

  @Column({ type: 'varchar', length: 16 })
  status!: JobDocumentStatus;

  @Column({ type: 'varchar', length: 16, nullable: true })
  stage!: JobStage | null;

  /** 0..100 over extract (0-10), transform (10-90), load (90-100). */
  @Column({ type: 'int', default: 0 })
  progress!: number;

  @Column({ name: 'output_doc_id', type: 'uuid', nullable: true })
  outputDocId!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;
}
