// The scheduler on the real PostgreSQL, with several jobs-service replicas sharing one database, an injected
// clock (no waiting for minutes to pass), a recording workflow engine and a stand-in users-docs on NATS.
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { Client } from 'pg';
import {
  DomainError,
  ErrorCode,
  UsersDocsSubjects,
  type DocumentListFilter,
  type DocumentSummary,
  type ListDocumentsRequest,
  type Schedule,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import { NatsRpcClient } from '@docflow/messaging';
import { LocalS3Server, createTestEnvironment, waitFor, type TestEnvironment } from '@docflow/local-platform';
import type { SubmitWorkflowRequest, WorkflowEngine } from '@docflow/workflow-engine';
import { Clock } from '../common/clock';
import { loadJobsConfig, type JobsConfig } from '../config';
import { jobsDataSourceOptions } from '../data-source.options';
import { JobsService } from '../jobs/jobs.service';
import { JobsModule } from '../jobs.module';
import { Scheduler } from './scheduler';
import { SchedulesService } from './schedules.service';

/** Records what it is asked to start; starts nothing. */
class RecordingEngine implements WorkflowEngine {
  readonly kind = 'local' as const;
  readonly submitted: SubmitWorkflowRequest[] = [];
  async submit(request: SubmitWorkflowRequest) {
    this.submitted.push(request);
    return { workflowName: `wf-${request.jobId}` };
  }
  async cancel() {}
  async status() {
    return undefined;
  }
  watch(_onStatus: unknown, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve()));
  }
}

interface FakeDocument extends DocumentSummary {
  uploadedAt: string;
}

/** users-docs as far as schedules need it: users, resolving ids, listing with a filter. */
class FakeUsersDocs {
  readonly users = new Set<string>();
  readonly documents: FakeDocument[] = [];
  readonly listFilters: { userId: string; filter: DocumentListFilter }[] = [];

  /** The filter of the user's latest listing (other schedules' runs launch concurrently). */
  lastFilter(userId: string): DocumentListFilter | undefined {
    return this.listFilters.filter((l) => l.userId === userId).at(-1)?.filter;
  }
  unavailable = false;
  private subscription?: Subscription;

  async start(nc: NatsConnection): Promise<void> {
    this.subscription = nc.subscribe('users-docs.>', { queue: 'users-docs' });
    void (async () => {
      for await (const message of this.subscription!) {
        const packet = JSON.parse(new TextDecoder().decode(message.data)) as { id: string; data: never };
        let reply: unknown;
        try {
          reply = { id: packet.id, response: this.handle(message.subject, packet.data), isDisposed: true };
        } catch (error) {
          reply = { id: packet.id, err: (error as DomainError).toPayload(), isDisposed: true };
        }
        message.respond(new TextEncoder().encode(JSON.stringify(reply)));
      }
    })();
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }

  addDocument(userId: string, contentType: string, uploadedAt: Date): string {
    const id = randomUUID();
    this.documents.push({
      id,
      userId,
      name: `${id}.txt`,
      kind: 'upload',
      contentType,
      size: 10,
      status: 'uploaded',
      createdAt: uploadedAt.toISOString(),
      updatedAt: uploadedAt.toISOString(),
      uploadedAt: uploadedAt.toISOString(),
    });
    return id;
  }

  private handle(subject: string, data: Record<string, unknown>): unknown {
    const userId = data.userId as string;
    if (this.unavailable) {
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'The database is unavailable; try again shortly');
    }
    // As users-docs: resolving ids never says whether the user exists, only which documents it lacks.
    if (!this.users.has(userId) && subject !== UsersDocsSubjects.documentResolve) {
      throw DomainError.notFound('user');
    }
    switch (subject) {
      case UsersDocsSubjects.userGet:
        return { id: userId, name: 'U', email: 'u@example.com' };
      case UsersDocsSubjects.documentResolve:
        return (data.docIds as string[]).map((docId) => {
          const d = this.documents.find((x) => x.id === docId && x.userId === userId);
          if (!d) throw new DomainError(ErrorCode.NOT_FOUND, `document not found: ${docId}`);
          return {
            docId,
            name: d.name,
            contentType: d.contentType,
            size: d.size,
            key: `users/${userId}/docs/${docId}`,
          };
        });
      case UsersDocsSubjects.documentList: {
        const request = data as unknown as ListDocumentsRequest;
        const filter = request.filter ?? {};
        this.listFilters.push({ userId, filter });
        const items = this.documents
          .filter(
            (d) =>
              d.userId === userId &&
              (!filter.contentType || d.contentType === filter.contentType) &&
              (!filter.uploadedAfter || d.uploadedAt > filter.uploadedAfter) &&
              (!filter.uploadedUntil || d.uploadedAt <= filter.uploadedUntil),
          )
          .reverse();
        return { items };
      }
      default:
        throw new DomainError(ErrorCode.INTERNAL, `unexpected ${subject}`);
    }
  }
}

interface Replica {
  context: INestApplicationContext;
  scheduler: Scheduler;
  schedules: SchedulesService;
  jobs: JobsService;
}

describe('the scheduler on PostgreSQL', () => {
  let env: TestEnvironment;
  let s3: LocalS3Server;
  let config: JobsConfig;
  let nc: NatsConnection;
  let pg: Client;
  const engine = new RecordingEngine();
  const usersDocs = new FakeUsersDocs();
  /** The one clock of every replica. */
  let now = new Date('2026-06-10T08:00:00Z');
  const replicas: Replica[] = [];

  async function startReplica(): Promise<Replica> {
    const context = await NestFactory.createApplicationContext(JobsModule.forRoot(config, engine), {
      logger: false,
    });
    context.get(Clock).now = () => new Date(now);
    await waitFor(async () => context.get(NatsRpcClient).isConnected(), { description: 'NATS' });
    const replica = {
      context,
      scheduler: context.get(Scheduler),
      schedules: context.get(SchedulesService),
      jobs: context.get(JobsService),
    };
    replicas.push(replica);
    return replica;
  }

  async function stopReplica(replica: Replica): Promise<void> {
    replicas.splice(replicas.indexOf(replica), 1);
    await replica.context.close();
  }

  function newUser(): string {
    const id = randomUUID();
    usersDocs.users.add(id);
    return id;
  }

  async function runsOf(scheduleId: string) {
    const result = await pg.query<{ slot_at: Date; status: string; job_ids: string[]; error: string | null }>(
      'SELECT slot_at, status, job_ids, error FROM jobs.schedule_runs WHERE schedule_id = $1 ORDER BY slot_at',
      [scheduleId],
    );
    return result.rows.map((r) => ({ ...r, slot_at: r.slot_at.toISOString() }));
  }

  async function jobsOf(scheduleId: string): Promise<string[]> {
    const result = await pg.query<{ id: string }>(
      "SELECT id FROM jobs.jobs WHERE idempotency_key LIKE 'schedule:' || $1 || ':%' ORDER BY created_at",
      [scheduleId],
    );
    return result.rows.map((r) => r.id);
  }

  beforeAll(async () => {
    env = await createTestEnvironment('scheduler');
    s3 = new LocalS3Server({ port: 0, directory: `${env.directory}/s3`, bucket: 'docflow' });
    const endpoint = await s3.start();
    config = loadJobsConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      // No user-details here: the quota of scheduled jobs is in apps/jobs/src/quota/job-quota.int-spec.ts.
      QUOTAS: 'off',
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      // The test ticks by hand.
      SCHEDULER_ENABLED: 'false',
      SCHEDULER_CONCURRENCY: '3',
      MAX_DOCS_PER_JOB: '3',
    });
    const migrations = createServiceDataSource(jobsDataSourceOptions(config));
    await runMigrations(migrations);
    await migrations.destroy();
    nc = await connect({ servers: env.natsUrl });
    await usersDocs.start(nc);
    pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
  });

  afterAll(async () => {
    for (const replica of [...replicas]) await stopReplica(replica);
    usersDocs.stop();
    await pg?.end();
    await nc?.close();
    await s3?.stop();
    await env?.close();
  });

  beforeEach(async () => {
    while (replicas.length) await stopReplica(replicas[0]!);
    now = new Date('2026-06-10T08:00:00Z');
  });

  it('has migrations that match the entities exactly (no schema drift)', async () => {
    const dataSource = await createServiceDataSource(jobsDataSourceOptions(config)).initialize();
    try {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      expect(await dataSource.showMigrations()).toBe(false);
    } finally {
      await dataSource.destroy();
    }
  });

  it('runs each due slot exactly once when three replicas race for it', async () => {
    const [a, b, c] = [await startReplica(), await startReplica(), await startReplica()];
    const userId = newUser();
    const docId = usersDocs.addDocument(userId, 'text/plain', new Date('2026-06-01T00:00:00Z'));
    const created: Schedule[] = [];
    for (let i = 0; i < 12; i++) {
      created.push(
        await a.schedules.create({
          userId,
          every: 'daily',
          at: '11:00',
          timezone: 'Europe/Berlin',
          documents: { docIds: [docId] },
        }),
      );
    }
    expect(created[0]!.nextRunAt).toBe('2026-06-10T09:00:00.000Z');
    const submittedBefore = engine.submitted.length;

    now = new Date('2026-06-10T09:00:01Z');
    // Several rounds of concurrent ticks: the first claims and launches, the rest must find nothing to do.
    for (let round = 0; round < 3; round++) {
      await Promise.all([a.scheduler.tick(), b.scheduler.tick(), c.scheduler.tick()]);
    }

    for (const schedule of created) {
      const runs = await runsOf(schedule.id);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ slot_at: '2026-06-10T09:00:00.000Z', status: 'launched' });
      const jobs = await jobsOf(schedule.id);
      expect(jobs).toHaveLength(1);
      expect(runs[0]!.job_ids).toEqual(jobs);
      const shown = await b.schedules.get({ userId, scheduleId: schedule.id });
      expect(shown).toMatchObject({
        lastRunAt: '2026-06-10T09:00:00.000Z',
        lastJobId: jobs[0],
        lastRun: { status: 'launched', jobIds: jobs },
        nextRunAt: '2026-06-11T09:00:00.000Z',
      });
    }
    expect(engine.submitted.length - submittedBefore).toBe(created.length);
  });

  it('never runs a slot again after a restart, and runs the next one once', async () => {
    const first = await startReplica();
    const userId = newUser();
    const docId = usersDocs.addDocument(userId, 'text/plain', new Date('2026-06-01T00:00:00Z'));
    const schedule = await first.schedules.create({
      userId,
      cron: '30 9 * * *',
      timezone: 'UTC',
      documents: { docIds: [docId] },
    });
    now = new Date('2026-06-10T09:30:00Z');
    expect(await first.scheduler.tick()).toEqual({ claimed: 1, launched: 1 });
    await stopReplica(first);

    const restarted = await startReplica();
    now = new Date('2026-06-10T09:45:00Z');
    expect(await restarted.scheduler.tick()).toEqual({ claimed: 0, launched: 0 });
    expect(await runsOf(schedule.id)).toHaveLength(1);

    now = new Date('2026-06-11T09:30:02Z');
    await restarted.scheduler.tick();
    await restarted.scheduler.tick();
    expect((await runsOf(schedule.id)).map((r) => r.slot_at)).toEqual([
      '2026-06-10T09:30:00.000Z',
      '2026-06-11T09:30:00.000Z',
    ]);
    expect(await jobsOf(schedule.id)).toHaveLength(2);
  });

  it('after being down for days, runs only the latest missed slot, once', async () => {
    const replica = await startReplica();
    const userId = newUser();
    const docId = usersDocs.addDocument(userId, 'text/plain', new Date('2026-06-01T00:00:00Z'));
    const schedule = await replica.schedules.create({
      userId,
      every: 'daily',
      at: '06:00',
      timezone: 'UTC',
      documents: { docIds: [docId] },
    });
    now = new Date('2026-06-14T12:00:00Z'); // the slots of the 10th to the 14th passed unseen
    await replica.scheduler.tick();
    expect(await runsOf(schedule.id)).toEqual([
      expect.objectContaining({ slot_at: '2026-06-14T06:00:00.000Z', status: 'launched' }),
    ]);
    expect((await replica.schedules.get({ userId, scheduleId: schedule.id })).nextRunAt).toBe(
      '2026-06-15T06:00:00.000Z',
    );
  });

  it('a launch cut short by a crash is finished by another replica with the same job, never a second one', async () => {
    const doomed = await startReplica();
    const survivor = await startReplica();
    const userId = newUser();
    const docId = usersDocs.addDocument(userId, 'text/plain', new Date('2026-06-01T00:00:00Z'));
    const schedule = await doomed.schedules.create({
      userId,
      cron: '0 10 * * *',
      timezone: 'UTC',
      documents: { docIds: [docId] },
    });

    // The doomed replica creates the job, then hangs before it records the run as launched.
    let release: () => void = () => undefined;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const create = doomed.jobs.create.bind(doomed.jobs);
    doomed.jobs.create = async (request) => {
      const job = await create(request);
      await hung;
      return job;
    };
    now = new Date('2026-06-10T10:00:00Z');
    const doomedTick = doomed.scheduler.tick().catch((error: Error) => error);
    await waitFor(async () => (await jobsOf(schedule.id)).length === 1, { description: 'the first job' });

    // While it holds the run, nobody else launches it.
    expect(await survivor.scheduler.tick()).toEqual({ claimed: 0, launched: 0 });
    expect((await runsOf(schedule.id))[0]!.status).toBe('pending');

    // It dies: its connection goes, and with it the lock on the run.
    // (the one transaction holding schedule_runs rows FOR UPDATE)
    const { rows } = await pg.query<{ pid: number }>(
      `SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname = 'schedule_runs' AND l.mode = 'RowShareLock' AND l.granted`,
    );
    expect(rows).toHaveLength(1);
    await pg.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);

    expect(await survivor.scheduler.tick()).toEqual({ claimed: 0, launched: 1 });
    const jobs = await jobsOf(schedule.id);
    expect(jobs).toHaveLength(1);
    expect(await runsOf(schedule.id)).toEqual([
      expect.objectContaining({ status: 'launched', job_ids: jobs }),
    ]);

    release();
    expect(await doomedTick).toBeInstanceOf(Error); // its transaction is gone; it records nothing
    expect(await runsOf(schedule.id)).toEqual([
      expect.objectContaining({ status: 'launched', job_ids: jobs }),
    ]);
  });

  it('a filter that matches nothing records a skipped run, and no job', async () => {
    const replica = await startReplica();
    const userId = newUser();
    usersDocs.addDocument(userId, 'text/plain', new Date('2026-06-01T00:00:00Z'));
    const schedule = await replica.schedules.create({
      userId,
      every: 'daily',
      timezone: 'UTC',
      documents: { filter: { contentType: 'application/pdf' } },
      runNow: true,
    });
    expect(schedule.nextRunAt).toBe(now.toISOString());
    await replica.scheduler.tick();
    expect(await runsOf(schedule.id)).toEqual([
      expect.objectContaining({
        status: 'skipped',
        job_ids: [],
        error: 'no uploaded document matches the filter',
      }),
    ]);
    expect(await jobsOf(schedule.id)).toEqual([]);
    expect((await replica.schedules.get({ userId, scheduleId: schedule.id })).nextRunAt).toBe(
      '2026-06-11T00:00:00.000Z',
    );
  });

  it('uploadedSinceLastRun takes what was uploaded between two slots, split into jobs of MAX_DOCS_PER_JOB', async () => {
    const replica = await startReplica();
    const userId = newUser();
    const old = usersDocs.addDocument(userId, 'text/plain', new Date('2026-06-01T00:00:00Z'));
    const schedule = await replica.schedules.create({
      userId,
      every: 'daily',
      at: '12:00',
      timezone: 'UTC',
      documents: { filter: { uploadedSinceLastRun: true, contentType: 'text/plain' } },
    });
    const fresh = [1, 2, 3, 4].map((m) =>
      usersDocs.addDocument(userId, 'text/plain', new Date(`2026-06-10T10:0${m}:00Z`)),
    );
    usersDocs.addDocument(userId, 'text/plain', new Date('2026-06-10T12:00:30Z')); // after the slot

    now = new Date('2026-06-10T12:01:00Z');
    await replica.scheduler.tick();
    const [run] = await runsOf(schedule.id);
    expect(run).toMatchObject({ status: 'launched' });
    expect(run!.job_ids).toHaveLength(2); // 4 documents, 3 per job
    const jobs = await Promise.all(run!.job_ids.map((jobId) => replica.jobs.get({ userId, jobId })));
    expect(jobs.flatMap((j) => j.docIds)).toEqual(fresh);
    expect(jobs.flatMap((j) => j.docIds)).not.toContain(old);
    expect(usersDocs.lastFilter(userId)).toEqual({
      status: 'uploaded',
      kind: 'upload',
      contentType: 'text/plain',
      uploadedAfter: schedule.createdAt,
      uploadedUntil: '2026-06-10T12:00:00.000Z',
    });

    now = new Date('2026-06-11T12:00:00Z');
    await replica.scheduler.tick();
    expect(usersDocs.lastFilter(userId)).toMatchObject({
      uploadedAfter: '2026-06-10T12:00:00.000Z',
      uploadedUntil: '2026-06-11T12:00:00.000Z',
    });
    const second = (await runsOf(schedule.id))[1]!;
    expect(second.status).toBe('launched');
    expect(second.job_ids).toHaveLength(1); // only the document uploaded after the first slot
  });

  it('retries a launch while users-docs is unavailable, then launches it', async () => {
    const replica = await startReplica();
    const userId = newUser();
    usersDocs.addDocument(userId, 'text/markdown', new Date('2026-06-01T00:00:00Z'));
    const schedule = await replica.schedules.create({
      userId,
      every: 'daily',
      timezone: 'UTC',
      documents: { filter: {} },
      runNow: true,
    });
    usersDocs.unavailable = true;
    try {
      await replica.scheduler.tick();
    } finally {
      usersDocs.unavailable = false;
    }
    expect(await runsOf(schedule.id)).toEqual([expect.objectContaining({ status: 'pending' })]);
    await replica.scheduler.tick(); // the backoff has not passed
    expect((await runsOf(schedule.id))[0]!.status).toBe('pending');

    now = new Date(now.getTime() + 60_000);
    await replica.scheduler.tick();
    expect(await runsOf(schedule.id)).toEqual([expect.objectContaining({ status: 'launched', error: null })]);
    expect(await jobsOf(schedule.id)).toHaveLength(1);
  });

  it('fails the run and pauses the schedule when its user is gone', async () => {
    const replica = await startReplica();
    const userId = newUser();
    const docId = usersDocs.addDocument(userId, 'text/plain', new Date('2026-06-01T00:00:00Z'));
    const base = { userId, every: 'daily' as const, timezone: 'UTC', runNow: true };
    const byIds = await replica.schedules.create({ ...base, documents: { docIds: [docId] } });
    const byFilter = await replica.schedules.create({ ...base, documents: { filter: {} } });
    usersDocs.users.delete(userId);
    usersDocs.documents.splice(
      0,
      usersDocs.documents.length,
      ...usersDocs.documents.filter((d) => d.userId !== userId),
    );

    await replica.scheduler.tick();
    for (const schedule of [byIds, byFilter]) {
      expect(await runsOf(schedule.id)).toEqual([expect.objectContaining({ status: 'failed' })]);
      expect(await replica.schedules.get({ userId, scheduleId: schedule.id })).toMatchObject({
        enabled: false,
        lastRun: { status: 'failed' },
      });
    }
    expect(await jobsOf(byIds.id)).toEqual([]);
  });

  it('deleting a schedule stops its runs; pausing skips slots until it resumes', async () => {
    const replica = await startReplica();
    const userId = newUser();
    const docId = usersDocs.addDocument(userId, 'text/plain', new Date('2026-06-01T00:00:00Z'));
    const base = { userId, every: 'daily' as const, timezone: 'UTC', documents: { docIds: [docId] } };
    const deleted = await replica.schedules.create(base);
    const paused = await replica.schedules.create(base);
    await replica.schedules.delete({ userId, scheduleId: deleted.id });
    const pausedView = await replica.schedules.update({ userId, scheduleId: paused.id, enabled: false });
    expect(pausedView.nextRunAt).toBeUndefined();

    now = new Date('2026-06-12T01:00:00Z');
    await replica.scheduler.tick();
    expect(await jobsOf(deleted.id)).toEqual([]);
    expect(await runsOf(paused.id)).toEqual([]);

    const resumed = await replica.schedules.update({ userId, scheduleId: paused.id, enabled: true });
    expect(resumed.nextRunAt).toBe('2026-06-13T00:00:00.000Z'); // the paused slots are not caught up
    await expect(replica.schedules.get({ userId: newUser(), scheduleId: paused.id })).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
  });
});
