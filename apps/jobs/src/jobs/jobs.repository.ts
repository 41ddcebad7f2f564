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
      // PostgreSQL takes at most 65,535 parameters per statement: a job may have 10,000 inputs.
      for (let i = 0; i < inputs.length; i += 1_000)
        await tx.insert(JobDocumentEntity, inputs.slice(i, i + 1_000));
    });
  }

  /** The job with its inputs, the first `inputLimit` of them when given (one query each, no N+1). */
  async findWithInputs(id: string, userId?: string, inputLimit?: number): Promise<JobEntity | null> {
    const job = await this.dataSource.getRepository(JobEntity).findOneBy(userId ? { id, userId } : { id });
    if (!job) return null;
    job.documents = await this.dataSource.getRepository(JobDocumentEntity).find({
      where: { jobId: id },
      order: { chunk: 'ASC', inputId: 'ASC' },
      ...(inputLimit ? { take: inputLimit } : {}),
    });
    return job;
  }

  /** A page of a job's inputs in (chunk, input id) order, after `after`. */
  listInputs(
    jobId: string,
    limit: number,
    after?: { chunk: number; inputId: string },
    status?: string,
  ): Promise<JobDocumentEntity[]> {
    const query = this.dataSource
      .getRepository(JobDocumentEntity)
      .createQueryBuilder('i')
      .where('i.job_id = :jobId', { jobId })
      .orderBy('i.chunk', 'ASC')
      .addOrderBy('i.input_id', 'ASC')
      .limit(limit);
    if (status) query.andWhere('i.status = :status', { status });
    if (after) query.andWhere('(i.chunk, i.input_id) > (:chunk, :inputId)', after);
    return query.getMany();
  }

  findByIdempotencyKey(userId: string, key: string): Promise<JobEntity | null> {
    return this.dataSource.getRepository(JobEntity).findOneBy({ userId, idempotencyKey: key });
  }

  /** Newest first, with the first `inputsPerJob` inputs of each loaded in one more query. */
  async list(
    userId: string,
    limit: number,
    inputsPerJob: number,
    after?: CursorPosition,
    status?: string,
  ): Promise<JobEntity[]> {
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
      .where(
        `(i.job_id, i.chunk, i.input_id) IN (
          SELECT ranked.job_id, ranked.chunk, ranked.input_id FROM (
            SELECT job_id, chunk, input_id,
              row_number() OVER (PARTITION BY job_id ORDER BY chunk, input_id) AS rank
            FROM jobs.job_inputs WHERE job_id IN (:...ids)
          ) ranked WHERE ranked.rank <= :inputsPerJob
        )`,
        { ids: jobs.map((j) => j.id), inputsPerJob },
      )
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

  /** The chunks that still have an input pending or running. */
  async openChunks(jobId: string): Promise<number[]> {
    const rows = await this.dataSource
      .getRepository(JobDocumentEntity)
      .createQueryBuilder('i')
      .select('DISTINCT i.chunk', 'chunk')
      .where('i.job_id = :jobId AND i.status IN (:...open)', { jobId, open: ['pending', 'running'] })
      .orderBy('i.chunk', 'ASC')
      .getRawMany<{ chunk: number }>();
    return rows.map((r) => Number(r.chunk));
  }

  /** The job row alone (the user's own when `userId` is given). */
  findJob(id: string, userId?: string): Promise<JobEntity | null> {
    return this.dataSource.getRepository(JobEntity).findOneBy(userId ? { id, userId } : { id });
  }

  /** One input of a job. */
  findInput(jobId: string, inputId: string, tx?: EntityManager): Promise<JobDocumentEntity | null> {
    return (tx ?? this.dataSource.manager).getRepository(JobDocumentEntity).findOneBy({ jobId, inputId });
  }

  /**
   * Runs `work` with the job row locked (SELECT ... FOR UPDATE), so concurrent callbacks for one job apply
   * one after the other. Only the job row is read: the work loads the one input it changes.
   */
  async withLockedJob<T>(
    id: string,
    work: (tx: EntityManager, job: JobEntity) => Promise<T>,
  ): Promise<T | undefined> {
    return this.dataSource.transaction(async (tx) => {
      const job = await tx
        .getRepository(JobEntity)
        .createQueryBuilder('j')
        .setLock('pessimistic_write')
        .where('j.id = :id', { id })
        .getOne();
      if (!job) return undefined;
      return work(tx, job);
    });
  }

  /** Cancels every input still pending or running (call with the job locked). */
  async cancelOpenInputs(tx: EntityManager, jobId: string): Promise<void> {
    await tx
      .createQueryBuilder()
      .update(JobDocumentEntity)
      .set({ status: 'cancelled' })
      .where('job_id = :jobId AND status IN (:...open)', { jobId, open: ['pending', 'running'] })
      .execute();
  }

  /** Whether this (job, event id) was stored before. */
  async hasEvent(tx: EntityManager, jobId: string, eventId: string): Promise<boolean> {
    return tx.getRepository(JobEventEntity).existsBy({ jobId, eventId });
  }

  /**
   * Stores an event once: false when this (job, event id) was stored before. `pending` puts it in the outbox:
   * it reaches JetStream once the transaction commits (see OutboxRelay).
   */
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

  /**
   * Hands a job's outbox events to `publish` in the order they were stored, and marks those published. The
   * rows stay locked meanwhile, so a second relay (another replica) waits and then finds them done: a job's
   * events reach the stream in commit order. Stops at the first failed publish; the rest stays pending.
   */
  async drainOutbox(
    jobId: string,
    publish: (payload: Record<string, unknown>) => Promise<void>,
  ): Promise<{ published: number; remaining: number; failure?: Error }> {
    return this.dataSource.transaction(async (tx) => {
      const rows = await tx
        .getRepository(JobEventEntity)
        .createQueryBuilder('e')
        .setLock('pessimistic_write')
        .where('e.job_id = :jobId AND e.pending', { jobId })
        .orderBy('e.seq', 'ASC')
        .limit(500)
        .getMany();
      const done: string[] = [];
      let failure: Error | undefined;
      for (const row of rows) {
        try {
          await publish(row.payload);
        } catch (error) {
          failure = error as Error;
          break;
        }
        done.push(row.seq);
      }
      if (done.length > 0)
        await tx
          .createQueryBuilder()
          .update(JobEventEntity)
          .set({ pending: false })
          .where('seq IN (:...done)', { done })
          .execute();
      return {
        published: done.length,
        remaining: rows.length - done.length,
        ...(failure ? { failure } : {}),
      };
    });
  }

  /** Jobs that have events waiting in the outbox. */
  async jobsWithPendingEvents(limit: number): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(JobEventEntity)
      .createQueryBuilder('e')
      .select('DISTINCT e.job_id', 'jobId')
      .where('e.pending')
      .limit(limit)
      .getRawMany<{ jobId: string }>();
    return rows.map((r) => r.jobId);
  }

  /** Every job of the user (id, status, provider key), oldest first. */
  jobsOfUser(userId: string): Promise<Pick<JobEntity, 'id' | 'status' | 'apiKeyId'>[]> {
    return this.dataSource.getRepository(JobEntity).find({
      select: { id: true, status: true, apiKeyId: true },
      where: { userId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /**
   * Deletes the jobs of `userId` among `ids`, with their inputs (ON DELETE CASCADE) and their stored events, in
   * one transaction. Returns how many jobs and events went.
   */
  async deleteJobs(userId: string, ids: string[]): Promise<{ jobs: number; events: number }> {
    if (ids.length === 0) return { jobs: 0, events: 0 };
    return this.dataSource.transaction(async (tx) => {
      let jobs = 0;
      let events = 0;
      for (let i = 0; i < ids.length; i += 1_000) {
        const batch = ids.slice(i, i + 1_000);
        // The job rows first, locked: a callback applying now finishes before, and one after finds no job.
        const deleted = await tx
          .createQueryBuilder()
          .delete()
          .from(JobEntity)
          .where('user_id = :userId AND id IN (:...batch)', { userId, batch })
          .returning(['id'])
          .execute();
        const gone = (deleted.raw as { id: string }[]).map((r) => r.id);
        jobs += gone.length;
        if (gone.length === 0) continue;
        const removed = await tx
          .createQueryBuilder()
          .delete()
          .from(JobEventEntity)
          .where('job_id IN (:...gone)', { gone })
          .execute();
        events += removed.affected ?? 0;
      }
      return { jobs, events };
    });
  }

  listEvents(jobId: string): Promise<JobEventEntity[]> {
    return this.dataSource.getRepository(JobEventEntity).find({ where: { jobId }, order: { seq: 'ASC' } });
  }
}
