import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { CursorPosition } from '@docflow/database';
import { JobEventEntity } from '../events/job-event.entity';
import { JobDocumentEntity } from './job-document.entity';
import { JobEntity } from './job.entity';

@Injectable()
export class JobsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Creates a job and its inputs in one transaction. */
  async insert(job: JobEntity, inputs: JobDocumentEntity[]): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.insert(JobEntity, job);
      await tx.insert(JobDocumentEntity, inputs);
    });
  }

  /** The job with its inputs (one query each, no N+1). */
  async findWithInputs(id: string, userId?: string): Promise<JobEntity | null> {
    const job = await this.dataSource.getRepository(JobEntity).findOneBy(userId ? { id, userId } : { id });
    if (!job) return null;
    job.documents = await this.dataSource
      .getRepository(JobDocumentEntity)
      .find({ where: { jobId: id }, order: { chunk: 'ASC', inputId: 'ASC' } });
    return job;
  }

  findByIdempotencyKey(userId: string, key: string): Promise<JobEntity | null> {
    return this.dataSource.getRepository(JobEntity).findOneBy({ userId, idempotencyKey: key });
  }

  /** Newest first, with their inputs loaded in one more query. */
  async list(userId: string, limit: number, after?: CursorPosition, status?: string): Promise<JobEntity[]> {
    const query = this.dataSource
      .getRepository(JobEntity)
      .createQueryBuilder('j')
      .where('j.user_id = :userId', { userId })
      .orderBy('j.created_at', 'DESC')
      .addOrderBy('j.id', 'DESC')
      .limit(limit);
    if (status) query.andWhere('j.status = :status', { status });
    if (after) query.andWhere('(j.created_at, j.id) < (:createdAt, :id)', after);
    const jobs = await query.getMany();
    if (jobs.length === 0) return jobs;
    const inputs = await this.dataSource
      .getRepository(JobDocumentEntity)
      .createQueryBuilder('i')
      .where('i.job_id IN (:...ids)', { ids: jobs.map((j) => j.id) })
      .orderBy('i.chunk', 'ASC')
      .addOrderBy('i.input_id', 'ASC')
      .getMany();
    for (const job of jobs) job.documents = inputs.filter((i) => i.jobId === job.id);
    return jobs;
  }

  /** Jobs the engine may still be running (for reconciliation after a restart). */
  findUnfinished(): Promise<JobEntity[]> {
    return this.dataSource
      .getRepository(JobEntity)
      .createQueryBuilder('j')
      .where("j.status IN ('queued', 'submitted', 'running')")
      .getMany();
  }

  /**
   * Runs `work` with the job row locked (SELECT ... FOR UPDATE), so concurrent callbacks for one job apply
   * one after the other.
   */
  async withLockedJob<T>(
    id: string,
    work: (tx: EntityManager, job: JobEntity, inputs: JobDocumentEntity[]) => Promise<T>,
  ): Promise<T | undefined> {
    return this.dataSource.transaction(async (tx) => {
      const job = await tx
        .getRepository(JobEntity)
        .createQueryBuilder('j')
        .setLock('pessimistic_write')
        .where('j.id = :id', { id })
        .getOne();
      if (!job) return undefined;
      const inputs = await tx
        .getRepository(JobDocumentEntity)
        .find({ where: { jobId: id }, order: { chunk: 'ASC', inputId: 'ASC' } });
      return work(tx, job, inputs);
    });
  }

  /** Stores an event once: false when this (job, event id) was stored before. */
  async insertEvent(tx: EntityManager, event: Omit<JobEventEntity, 'seq'>): Promise<boolean> {
    const result = await tx
      .createQueryBuilder()
      .insert()
      .into(JobEventEntity)
      // jsonb columns defeat TypeORM's deep-partial typing; the shape is the entity's.
      .values(event as never)
      .orIgnore()
      .returning(['seq'])
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  listEvents(jobId: string): Promise<JobEventEntity[]> {
    return this.dataSource.getRepository(JobEventEntity).find({ where: { jobId }, order: { seq: 'ASC' } });
  }
}
