import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, type EntityManager, type FindOptionsWhere } from 'typeorm';
import type { JobDocumentStatus, JobOwner, JobStage, JobStatus } from '@docflow/contracts';
import type { CursorPosition } from '@docflow/database';
import { JOBS_SCHEMA } from '../config';
import { JobEventEntity } from '../events/job-event.entity';
import { JobDocumentEntity } from './job-document.entity';
import type { JobListFilters } from './job-list-filters';
import { JobEntity } from './job.entity';

/** What a callback needs of its job before the lock: fields that never change once the job is created. */
export type CallbackJob = Pick<
  JobEntity,
  'id' | 'userId' | 'teamId' | 'crew' | 'callbackSecret' | 'apiKeyId'
>;

/** The part of a job row that applying events reads and changes (not its document ids, params or model). */
export type JobState = Pick<
  JobEntity,
  | 'id'
  | 'userId'
  | 'status'
  | 'crew'
  | 'apiKeyId'
  | 'startedAt'
  | 'finishedAt'
  | 'error'
  | 'usage'
  | 'inputsTotal'
  | 'inputsOpen'
  | 'inputsCompleted'
  | 'progressSum'
  | 'updatedAt'
>;

/** The state of an input that events change. */
export type InputRow = Pick<
  JobDocumentEntity,
  'inputId' | 'status' | 'stage' | 'progress' | 'outputDocId' | 'error'
>;

/** An event row to store (`pending`: in the outbox). */
export type NewEvent = Pick<JobEventEntity, 'eventId' | 'type' | 'payload' | 'pending' | 'createdAt'>;

const S = JOBS_SCHEMA;

/**
 * The jobs an owner sees: a team's (whoever of its members started them), or the user's own, never a team's job
 * the user started.
 */
function ownedBy(owner: JobOwner): FindOptionsWhere<JobEntity> {
  return owner.teamId ? { teamId: owner.teamId } : { userId: owner.userId, teamId: IsNull() };
}

/** Immutable jobs kept in memory for callbacks; beyond this many, the oldest is forgotten. */
const CALLBACK_JOB_CACHE = 5_000;

@Injectable()
export class JobsRepository {
  private readonly callbackJobs = new Map<string, CallbackJob>();

  constructor(private readonly dataSource: DataSource) {}

  /** Creates a job and its inputs in one transaction. */
  async insert(
    job: JobEntity,
    inputs: JobDocumentEntity[],
    admit?: (tx: EntityManager) => Promise<void>,
  ): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      // The quota check (apps/jobs/src/quota), under the starter's lock in this transaction; it refuses by throwing.
      if (admit) await admit(tx);
      await tx.insert(JobEntity, job);
      // PostgreSQL takes at most 65,535 parameters per statement: a job may have 10,000 inputs.
      for (let i = 0; i < inputs.length; i += 1_000)
        await tx.insert(JobDocumentEntity, inputs.slice(i, i + 1_000));
    });
  }

  /**
   * The job with its inputs, the first `inputLimit` of them when given (one query each, no N+1); the owner's
   * only when `owner` is given.
   */
  async findWithInputs(id: string, owner?: JobOwner, inputLimit?: number): Promise<JobEntity | null> {
    const job = await this.dataSource
      .getRepository(JobEntity)
      .findOneBy(owner ? { id, ...ownedBy(owner) } : { id });
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

  /** An Idempotency-Key is the owner's: the user's for their own jobs, the team's for its jobs. */
  findByIdempotencyKey(owner: JobOwner, key: string): Promise<JobEntity | null> {
    return this.dataSource.getRepository(JobEntity).findOneBy({ ...ownedBy(owner), idempotencyKey: key });
  }

  /**
   * Newest first, with the first `inputsPerJob` inputs of each loaded in one more query. Every filter given
   * narrows the list; the order (created_at, id) is total, so a cursor goes on correctly through a filtered list.
   * The owner's index (owner, created_at, id) serves the order and a `created_at` range; a status has an index of
   * its own per owner (owner, status, created_at, id); `docId` goes through the GIN index of the inputs' document
   * ids; crew and strategy are checked on the rows the others find.
   */
  async list(
    owner: JobOwner,
    limit: number,
    inputsPerJob: number,
    after?: CursorPosition,
    filters: JobListFilters = {},
  ): Promise<JobEntity[]> {
    const query = this.dataSource
      .getRepository(JobEntity)
      .createQueryBuilder('j')
      .orderBy('j.created_at', 'DESC')
      .addOrderBy('j.id', 'DESC')
      .limit(limit);
    if (owner.teamId) query.where('j.team_id = :teamId', { teamId: owner.teamId });
    else query.where('j.user_id = :userId AND j.team_id IS NULL', { userId: owner.userId });
    if (filters.statuses?.length)
      query.andWhere('j.status IN (:...statuses)', { statuses: filters.statuses });
    if (filters.crew) query.andWhere('j.crew = :crew', { crew: filters.crew });
    if (filters.strategy) query.andWhere('j.strategy = :strategy', { strategy: filters.strategy });
    if (filters.createdAfter)
      query.andWhere('j.created_at >= :createdAfter', { createdAfter: filters.createdAfter });
    if (filters.createdBefore)
      query.andWhere('j.created_at < :createdBefore', { createdBefore: filters.createdBefore });
    if (filters.docId)
      query.andWhere(
        `j.id IN (SELECT i.job_id FROM "${S}"."job_inputs" i WHERE i.doc_ids @> ARRAY[:docId]::uuid[])`,
        { docId: filters.docId },
      );
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

  /** The job row alone (the owner's only when `owner` is given). */
  findJob(id: string, owner?: JobOwner): Promise<JobEntity | null> {
    return this.dataSource.getRepository(JobEntity).findOneBy(owner ? { id, ...ownedBy(owner) } : { id });
  }

  /**
   * The job's immutable fields for checking a callback, from memory after the first time: id, user, team, crew,
   * callback secret and provider key never change once the job exists. Whatever changes (status, counters)
   * is read under the lock by {@link lockJobState}, which also finds a job deleted meanwhile.
   */
  async callbackJob(id: string): Promise<CallbackJob | null> {
    const cached = this.callbackJobs.get(id);
    if (cached) return cached;
    const rows: {
      id: string;
      user_id: string;
      team_id: string | null;
      crew: string;
      callback_secret: string;
      api_key_id: string | null;
    }[] = await this.dataSource.query(
      `SELECT id, user_id, team_id, crew, callback_secret, api_key_id FROM "${S}"."jobs" WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    const job: CallbackJob = {
      id: row.id,
      userId: row.user_id,
      teamId: row.team_id,
      crew: row.crew,
      callbackSecret: row.callback_secret,
      apiKeyId: row.api_key_id,
    };
    if (this.callbackJobs.size >= CALLBACK_JOB_CACHE)
      this.callbackJobs.delete(this.callbackJobs.keys().next().value as string);
    this.callbackJobs.set(id, job);
    return job;
  }

  /** An input with what registering its output needs, and its job's status now (one query). */
  async inputForOutput(
    jobId: string,
    inputId: string,
  ): Promise<
    (Pick<JobDocumentEntity, 'inputId' | 'docIds' | 'name' | 'status'> & { jobStatus: JobStatus }) | null
  > {
    const rows: {
      input_id: string;
      doc_ids: string[];
      name: string;
      status: JobDocumentStatus;
      job_status: JobStatus;
    }[] = await this.dataSource.query(
      `SELECT i.input_id, i.doc_ids, i.name, i.status, j.status AS job_status
           FROM "${S}"."job_inputs" i JOIN "${S}"."jobs" j ON j.id = i.job_id
          WHERE i.job_id = $1 AND i.input_id = $2`,
      [jobId, inputId],
    );
    const row = rows[0];
    return row
      ? {
          inputId: row.input_id,
          docIds: row.doc_ids,
          name: row.name,
          status: row.status,
          jobStatus: row.job_status,
        }
      : null;
  }

  /** Locks the job row (SELECT ... FOR UPDATE) and reads its state, without the job's document ids. */
  async lockJobState(tx: EntityManager, id: string): Promise<JobState | null> {
    const rows: {
      id: string;
      user_id: string;
      status: JobStatus;
      crew: string;
      api_key_id: string | null;
      started_at: Date | null;
      finished_at: Date | null;
      error: string | null;
      usage: JobState['usage'];
      inputs_total: number;
      inputs_open: number;
      inputs_completed: number;
      progress_sum: number;
      updated_at: Date;
    }[] = await tx.query(
      `SELECT id, user_id, status, crew, api_key_id, started_at, finished_at, error, usage, inputs_total,
              inputs_open, inputs_completed, progress_sum, updated_at
         FROM "${S}"."jobs" WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      userId: row.user_id,
      status: row.status,
      crew: row.crew,
      apiKeyId: row.api_key_id,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      error: row.error,
      usage: row.usage,
      inputsTotal: row.inputs_total,
      inputsOpen: row.inputs_open,
      inputsCompleted: row.inputs_completed,
      progressSum: row.progress_sum,
      updatedAt: row.updated_at,
    };
  }

  /**
   * In one query (call with the job locked, after the lock: a fresh snapshot): the given inputs of the job and
   * which of the given event ids it has stored already.
   */
  async inputsAndSeenEvents(
    tx: EntityManager,
    jobId: string,
    inputIds: string[],
    eventIds: string[],
  ): Promise<{ inputs: Map<string, InputRow>; seen: Set<string> }> {
    const rows: {
      kind: 'i' | 'e';
      id: string;
      status: JobDocumentStatus | null;
      stage: JobStage | null;
      progress: number | null;
      output_doc_id: string | null;
      error: string | null;
    }[] = await tx.query(
      `SELECT 'i' AS kind, input_id AS id, status, stage, progress, output_doc_id, error
         FROM "${S}"."job_inputs" WHERE job_id = $1 AND input_id = ANY($2::varchar[])
       UNION ALL
       SELECT 'e', event_id, NULL, NULL, NULL, NULL, NULL
         FROM "${S}"."job_events" WHERE job_id = $1 AND event_id = ANY($3::varchar[])`,
      [jobId, inputIds, eventIds],
    );
    const inputs = new Map<string, InputRow>();
    const seen = new Set<string>();
    for (const row of rows) {
      if (row.kind === 'e') seen.add(row.id);
      else
        inputs.set(row.id, {
          inputId: row.id,
          status: row.status!,
          stage: row.stage,
          progress: row.progress!,
          outputDocId: row.output_doc_id,
          error: row.error,
        });
    }
    return { inputs, seen };
  }

  /**
   * Writes what a batch of events changed, in one statement (call with the job locked): the inputs, the events
   * (stored in the given order, so `seq` follows it; a repeated id is ignored) and, when `job` is given, the
   * job's state.
   */
  async writeApplied(
    tx: EntityManager,
    jobId: string,
    changes: { inputs: InputRow[]; events: NewEvent[]; job?: JobState },
  ): Promise<void> {
    const job = changes.job;
    await tx.query(
      `WITH input_rows AS (
         UPDATE "${S}"."job_inputs" i
            SET status = v.status, stage = v.stage, progress = v.progress, output_doc_id = v.output_doc_id,
                error = v.error
           FROM jsonb_to_recordset($2::jsonb)
                AS v(input_id varchar, status varchar, stage varchar, progress int, output_doc_id uuid, error text)
          WHERE i.job_id = $1 AND i.input_id = v.input_id
          RETURNING 1
       ), event_rows AS (
         INSERT INTO "${S}"."job_events" (job_id, event_id, type, payload, pending, created_at)
         SELECT $1, e.value->>'eventId', e.value->>'type', e.value->'payload', (e.value->>'pending')::boolean,
                (e.value->>'createdAt')::timestamptz
           FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(value, n)
          ORDER BY e.n
         ON CONFLICT DO NOTHING
         RETURNING 1
       )
       UPDATE "${S}"."jobs"
          SET status = $5, started_at = $6, finished_at = $7, error = $8, usage = $9::jsonb, inputs_open = $10,
              inputs_completed = $11, progress_sum = $12, updated_at = $13
        WHERE id = $1 AND $4::boolean`,
      [
        jobId,
        JSON.stringify(
          changes.inputs.map((i) => ({
            input_id: i.inputId,
            status: i.status,
            stage: i.stage,
            progress: i.progress,
            output_doc_id: i.outputDocId,
            error: i.error,
          })),
        ),
        JSON.stringify(
          changes.events.map((e) => ({
            eventId: e.eventId,
            type: e.type,
            payload: e.payload,
            pending: e.pending,
            createdAt: e.createdAt.toISOString(),
          })),
        ),
        job !== undefined,
        job?.status ?? null,
        job?.startedAt ?? null,
        job?.finishedAt ?? null,
        job?.error ?? null,
        job ? JSON.stringify(job.usage) : null,
        job?.inputsOpen ?? null,
        job?.inputsCompleted ?? null,
        job?.progressSum ?? null,
        job?.updatedAt ?? null,
      ],
    );
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

  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
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

  /**
   * Stores an event once: false when this (job, event id) was stored before. `pending` puts it in the outbox:
   * it reaches JetStream once the transaction commits (see OutboxRelay).
   */
  async insertEvent(tx: EntityManager, event: Omit<JobEventEntity, 'seq' | 'streamSeq'>): Promise<boolean> {
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
    publish: (event: { jobId: string; eventId: string; json: string }) => Promise<number | void>,
  ): Promise<{ published: number; remaining: number; failure?: Error }> {
    return this.dataSource.transaction(async (tx) => {
      // The payload as stored text: published as it is, not parsed and serialized again.
      const rows: { seq: string; event_id: string; payload: string }[] = await tx.query(
        `SELECT seq, event_id, payload::text AS payload FROM "${S}"."job_events"
          WHERE job_id = $1 AND pending ORDER BY seq LIMIT 500 FOR UPDATE`,
        [jobId],
      );
      const done: string[] = [];
      // The stream sequence JetStream acknowledged for each: the event's SSE id, kept for when the stream no
      // longer holds it (see JobEventHistory).
      const sequences: (string | null)[] = [];
      let failure: Error | undefined;
      for (const row of rows) {
        let sequence: number | void;
        try {
          sequence = await publish({ jobId, eventId: row.event_id, json: row.payload });
        } catch (error) {
          failure = error as Error;
          break;
        }
        done.push(row.seq);
        sequences.push(typeof sequence === 'number' && sequence > 0 ? String(sequence) : null);
      }
      if (done.length > 0)
        await tx.query(
          `UPDATE "${S}"."job_events" e SET pending = false, stream_seq = v.stream_seq
             FROM unnest($1::bigint[], $2::bigint[]) AS v(seq, stream_seq) WHERE e.seq = v.seq`,
          [done, sequences],
        );
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

  /**
   * Every job of the owner (id, status, provider key, output inputs), oldest first: the user's own jobs (not the
   * team jobs they started: those are the team's), or the team's.
   */
  jobsOf(owner: JobOwner): Promise<Pick<JobEntity, 'id' | 'status' | 'apiKeyId'>[]> {
    return this.dataSource.getRepository(JobEntity).find({
      select: { id: true, status: true, apiKeyId: true },
      where: ownedBy(owner),
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /** The inputs of the jobs among `jobIds` whose output became a document (their ids and output document). */
  async registeredOutputs(jobIds: string[]): Promise<{ jobId: string; inputId: string }[]> {
    if (jobIds.length === 0) return [];
    const rows: { job_id: string; input_id: string }[] = await this.dataSource.query(
      `SELECT job_id, input_id FROM "${S}"."job_inputs"
        WHERE job_id = ANY($1::uuid[]) AND output_doc_id IS NOT NULL`,
      [jobIds],
    );
    return rows.map((r) => ({ jobId: r.job_id, inputId: r.input_id }));
  }

  /**
   * Deletes the owner's jobs among `ids` (see {@link jobsOf}), with their inputs (ON DELETE CASCADE) and their
   * stored events, in one transaction. Returns how many jobs and events went.
   */
  async deleteJobs(owner: JobOwner, ids: string[]): Promise<{ jobs: number; events: number }> {
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
          .where(
            owner.teamId ? 'team_id = :teamId' : 'user_id = :userId AND team_id IS NULL',
            owner.teamId ? { teamId: owner.teamId } : { userId: owner.userId },
          )
          .andWhere('id IN (:...batch)', { batch })
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
