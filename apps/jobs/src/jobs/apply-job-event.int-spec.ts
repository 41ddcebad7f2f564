// Applying step callbacks on the real PostgreSQL: the statements one callback costs, batches of concurrent
// callbacks, duplicates, forward-only moves, late callbacks and the outbox. users-docs and JetStream are
// stand-ins in this process.
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import {
  UsersDocsSubjects,
  jobOutputPrefix,
  signCallback,
  type DocumentSummary,
  type JobEvent,
  type RegisterOutputRequest,
} from '@docflow/contracts';
import { createServiceDataSource, dropDatabase, ensureDatabase, runMigrations } from '@docflow/database';
import type { ServiceClient } from '@docflow/messaging';
import { waitFor } from '@docflow/local-platform';
import { Clock } from '../common/clock';
import { jobsDataSourceOptions } from '../data-source.options';
import type { EventsPublisher } from '../events/events.publisher';
import { OutboxRelay } from '../events/outbox.relay';
import { ApplyJobEventUseCase } from './apply-job-event.usecase';
import { JobDocumentEntity } from './job-document.entity';
import { JobEntity } from './job.entity';
import { JobsRepository } from './jobs.repository';

/** Counts the statements sent to PostgreSQL (BEGIN and COMMIT included). */
class CountingLogger implements TypeOrmLogger {
  readonly statements: string[] = [];
  logQuery(query: string) {
    this.statements.push(query.replace(/\s+/g, ' ').trim());
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

describe(ApplyJobEventUseCase.name, () => {
  const server = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  server.pathname = `/docflow_apply_events_${randomBytes(4).toString('hex')}`;
  const databaseUrl = server.toString();
  const counter = new CountingLogger();
  let dataSource: DataSource;
  let repository: JobsRepository;
  let sut: ApplyJobEventUseCase;
  const published: { jobId: string; eventId: string; json: string }[] = [];
  const registered: RegisterOutputRequest[] = [];
  const outputIds = new Map<string, string>();
  let failPublish = false;

  const services = {
    isConnected: () => true,
    async send<T>(subject: string, payload: unknown): Promise<T> {
      if (subject !== UsersDocsSubjects.documentRegisterOutput) throw new Error(`unexpected ${subject}`);
      const request = payload as RegisterOutputRequest;
      registered.push(request);
      // As users-docs: one document per object key.
      if (!outputIds.has(request.key)) outputIds.set(request.key, randomUUID());
      return { id: outputIds.get(request.key)! } as DocumentSummary as T;
    },
  } as unknown as ServiceClient;
  const publisher = {
    async publishJson(event: { jobId: string; eventId: string; json: string }) {
      if (failPublish) throw new Error('JetStream is down');
      published.push(event);
    },
  } as unknown as EventsPublisher;

  beforeAll(async () => {
    await ensureDatabase(databaseUrl);
    dataSource = createServiceDataSource(
      jobsDataSourceOptions({ DATABASE_URL: databaseUrl, DB_POOL_SIZE: 10 }),
    );
    dataSource.setOptions({ logging: ['query'], logger: counter });
    await dataSource.initialize();
    await runMigrations(dataSource);
    repository = new JobsRepository(dataSource);
    sut = new ApplyJobEventUseCase(repository, services, new OutboxRelay(repository, publisher), new Clock());
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await dropDatabase(databaseUrl);
  });

  /** A running job of `n` inputs (one document each) and its callback secret. */
  async function createJob(n: number) {
    const id = randomUUID();
    const userId = randomUUID();
    const secret = randomBytes(32).toString('hex');
    const now = new Date();
    const inputs = Array.from({ length: n }, (_, i) =>
      Object.assign(new JobDocumentEntity(), {
        jobId: id,
        inputId: randomUUID(),
        docIds: [randomUUID()],
        name: `doc-${i}.txt`,
        chunk: 0,
        status: 'pending',
        stage: null,
        progress: 0,
        outputDocId: null,
        error: null,
      }),
    );
    inputs.forEach((input) => (input.docIds = [input.inputId]));
    await repository.insert(
      Object.assign(new JobEntity(), {
        id,
        userId,
        status: 'submitted',
        crew: 'summarize',
        strategy: 'individual',
        params: {},
        model: { provider: 'offline', model: 'offline' },
        docIds: inputs.map((i) => i.inputId),
        idempotencyKey: null,
        engine: 'local',
        workflowName: `wf-${id}`,
        apiKeyId: null,
        manifestKey: 'manifest.json',
        callbackSecret: secret,
        chunkCount: 1,
        inputsTotal: n,
        inputsOpen: n,
        inputsCompleted: 0,
        progressSum: 0,
        usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
        error: null,
        createdAt: now,
        updatedAt: now,
        submittedAt: now,
        startedAt: null,
        finishedAt: null,
      }),
      inputs,
    );
    const inputIds = inputs.map((i) => i.inputId);
    const event = (inputId: string, type: JobEvent['type'], extra: Partial<JobEvent> = {}): JobEvent => ({
      id: [id, 0, inputId, type, extra.stage, extra.progress].filter((p) => p !== undefined).join(':'),
      jobId: id,
      type,
      at: new Date().toISOString(),
      chunk: 0,
      inputId,
      docIds: [inputId],
      ...extra,
    });
    const completed = (inputId: string): JobEvent =>
      event(inputId, 'doc_completed', {
        output: {
          markdownKey: `${jobOutputPrefix(userId, id)}${inputId}.md`,
          sidecarKey: `${jobOutputPrefix(userId, id)}${inputId}.json`,
          bytes: 10,
        },
        usage: { inputTokens: 2, outputTokens: 1, totalTokens: 3 },
      });
    const send = (e: JobEvent) => {
      const body = JSON.stringify(e);
      const timestamp = Math.floor(Date.now() / 1000);
      return sut.record({
        jobId: id,
        body,
        timestamp: String(timestamp),
        signature: signCallback(secret, timestamp, body),
      });
    };
    return { id, userId, inputIds, event, completed, send };
  }

  const jobRow = async (id: string) =>
    (
      (await dataSource.query(
        'SELECT status, inputs_open, inputs_completed, progress_sum, usage FROM jobs.jobs WHERE id = $1',
        [id],
      )) as {
        status: string;
        inputs_open: number;
        inputs_completed: number;
        progress_sum: number;
        usage: { totalTokens: number };
      }[]
    )[0]!;
  const inputRow = async (jobId: string, inputId: string) =>
    (
      (await dataSource.query(
        'SELECT status, stage, progress, output_doc_id FROM jobs.job_inputs WHERE job_id = $1 AND input_id = $2',
        [jobId, inputId],
      )) as { status: string; stage: string; progress: number; output_doc_id: string | null }[]
    )[0]!;
  const storedEvents = async (jobId: string) =>
    (await dataSource.query(
      'SELECT event_id, type, pending, payload FROM jobs.job_events WHERE job_id = $1 ORDER BY seq',
      [jobId],
    )) as { event_id: string; type: string; pending: boolean; payload: Record<string, unknown> }[];
  const publishedFor = (jobId: string) => published.filter((p) => p.jobId === jobId).map((p) => p.eventId);
  const noPending = async (jobId: string) => (await storedEvents(jobId)).every((e) => !e.pending);

  it('applies a stage callback in five statements (one transaction), and publishes it in four more', async () => {
    const job = await createJob(2);
    await job.send(job.event(job.inputIds[0]!, 'stage_started', { stage: 'extract' }));
    await waitFor(async () => publishedFor(job.id).length === 2);

    counter.statements.length = 0;
    const answer = await job.send(job.event(job.inputIds[0]!, 'stage_completed', { stage: 'extract' }));
    expect(answer).toEqual({ accepted: true, duplicate: false });
    const applying = [...counter.statements];
    await waitFor(async () => publishedFor(job.id).length === 3);
    // BEGIN, lock the job, read the input and the stored ids, one write, COMMIT: no reload of the job's own
    // data (its document ids), no load-then-save.
    expect(applying).toHaveLength(5);
    expect(applying[0]).toBe('START TRANSACTION');
    expect(applying[1]).toMatch(/FOR UPDATE$/);
    expect(applying[1]).not.toMatch(/doc_ids/);
    expect(applying.at(-1)).toBe('COMMIT');
    // The outbox: BEGIN, the pending rows, marking them published, COMMIT.
    expect(counter.statements.length - applying.length).toBeLessThanOrEqual(4);
  });

  it('applies concurrent callbacks of one job as if one after the other: ids once, forward only, published in stored order', async () => {
    const job = await createJob(5);
    const stages = ['extract', 'transform', 'load'] as const;
    const sequence = job.inputIds.flatMap((inputId) =>
      stages.flatMap((stage) => [
        job.event(inputId, 'stage_started', { stage }),
        job.event(inputId, 'stage_completed', { stage }),
      ]),
    );
    // Every event twice, all at once; and a late stage_started extract after the load stage of one input.
    const answers = await Promise.all([...sequence, ...sequence].map((e) => job.send(e)));
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(sequence.length);
    const late = await job.send(
      job.event(job.inputIds[0]!, 'stage_progress', { stage: 'extract', progress: 50 }),
    );
    expect(late.duplicate).toBe(false);

    // Concurrent callbacks have no order of their own: each is stored once, the late one last.
    const stored = await storedEvents(job.id);
    expect(stored[0]!.event_id).toBe(`${job.id}:job_started`);
    expect(stored.at(-1)!.event_id).toBe(`${job.id}:0:${job.inputIds[0]}:stage_progress:extract:50`);
    expect(
      stored
        .slice(1, -1)
        .map((e) => e.event_id)
        .sort(),
    ).toEqual(sequence.map((e) => e.id).sort());
    for (const inputId of job.inputIds.slice(1))
      expect(await inputRow(job.id, inputId)).toMatchObject({
        status: 'running',
        stage: 'load',
        progress: 100,
      });
    // Progress never goes back.
    expect(await inputRow(job.id, job.inputIds[0]!)).toMatchObject({ status: 'running', progress: 100 });
    expect(await jobRow(job.id)).toMatchObject({ status: 'running', inputs_open: 5, progress_sum: 500 });
    await waitFor(() => noPending(job.id));
    expect(publishedFor(job.id)).toEqual(stored.map((e) => e.event_id));
  });

  it('completes the job once: outputs registered for each input, late callbacks kept but change nothing', async () => {
    const job = await createJob(3);
    // Each input's doc_completed twice at once (a step's retry racing its first attempt).
    const answers = await Promise.all(
      job.inputIds.flatMap((i) => [job.completed(i), job.completed(i)]).map(job.send),
    );
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(3);
    const row = await jobRow(job.id);
    expect(row).toMatchObject({
      status: 'completed',
      inputs_open: 0,
      inputs_completed: 3,
      progress_sum: 300,
    });
    expect(row.usage.totalTokens).toBe(9);
    for (const inputId of job.inputIds) {
      const input = await inputRow(job.id, inputId);
      expect(input.status).toBe('completed');
      expect(input.output_doc_id).toBe(outputIds.get(`${jobOutputPrefix(job.userId, job.id)}${inputId}.md`));
    }
    expect(new Set(registered.filter((r) => r.jobId === job.id).map((r) => r.key)).size).toBe(3);

    await waitFor(() => noPending(job.id));
    const publishedBefore = publishedFor(job.id);
    expect(publishedBefore.filter((id) => id === `${job.id}:job_completed`)).toHaveLength(1);
    expect(publishedBefore.at(-1)).toBe(`${job.id}:job_completed`);

    const registeredBefore = registered.length;
    const late = job.event(job.inputIds[0]!, 'doc_failed', { error: { kind: 'permanent', message: 'late' } });
    expect(await job.send(late)).toEqual({ accepted: true, duplicate: false });
    expect(await job.send(job.completed(job.inputIds[1]!))).toEqual({ accepted: true, duplicate: true });
    expect(await jobRow(job.id)).toMatchObject({ status: 'completed', inputs_completed: 3 });
    expect(await inputRow(job.id, job.inputIds[0]!)).toMatchObject({ status: 'completed' });
    expect((await storedEvents(job.id)).find((e) => e.event_id === late.id)).toMatchObject({
      pending: false,
    });
    expect(registered).toHaveLength(registeredBefore);
    await sut['outbox'].flush(job.id);
    expect(publishedFor(job.id)).toEqual(publishedBefore);
  });

  it('refuses one bad callback of a batch alone: an unknown input, an event PostgreSQL cannot store', async () => {
    const job = await createJob(2);
    const good = job.inputIds.map((i) => job.event(i, 'stage_started', { stage: 'extract' }));
    const unknown = job.event(randomUUID(), 'stage_started', { stage: 'extract' });
    // jsonb cannot hold \u0000: the statement of a batch with it fails, so its events are applied one by one.
    const unstorable = job.event(job.inputIds[0]!, 'stage_progress', {
      stage: 'extract',
      progress: 5,
      message: 'a\u0000b',
    });
    const results = await Promise.allSettled([good[0]!, unknown, unstorable, good[1]!].map(job.send));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      details: [{ field: 'inputId', message: 'is not an input of this job' }],
    });
    const stored = (await storedEvents(job.id)).map((e) => e.event_id);
    expect(stored[0]).toBe(`${job.id}:job_started`);
    expect(stored.slice(1).sort()).toEqual(good.map((e) => e.id).sort());
  });

  it('keeps events in the outbox while JetStream is down and publishes them in order later', async () => {
    const job = await createJob(1);
    failPublish = true;
    try {
      await job.send(job.event(job.inputIds[0]!, 'stage_started', { stage: 'extract' }));
      await job.send(job.event(job.inputIds[0]!, 'stage_completed', { stage: 'extract' }));
      await sut['outbox'].flush(job.id);
      expect((await storedEvents(job.id)).every((e) => e.pending)).toBe(true);
    } finally {
      failPublish = false;
    }
    await sut['outbox'].sweep();
    expect(publishedFor(job.id)).toEqual((await storedEvents(job.id)).map((e) => e.event_id));
    expect((await storedEvents(job.id)).every((e) => !e.pending)).toBe(true);
    const payload = JSON.parse(
      published.find((p) => p.jobId === job.id && p.eventId.endsWith('stage_completed:extract'))!.json,
    );
    expect(payload).toMatchObject({
      type: 'stage_completed',
      stage: 'extract',
      status: 'running',
      progress: 10,
    });
  });
});
