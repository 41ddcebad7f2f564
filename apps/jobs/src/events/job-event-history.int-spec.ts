// A job's stored events as the SSE history (`jobs.job.events`), on the real PostgreSQL, a nats-server with
// JetStream and an S3 server of the test's own: the outbox records each event's stream sequence when JetStream
// acknowledges it, and the history serves the same ids after the stream lost the job's messages. The test plays
// users-docs and the job's step (signed callbacks); the workflow engine runs nothing.
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, consumerOpts, type NatsConnection } from 'nats';
import { Client } from 'pg';
import {
  DomainError,
  ErrorCode,
  JOB_EVENTS_STREAM,
  JobsSubjects,
  UsersDocsSubjects,
  jobEventsSubject,
  signCallback,
  type JobEvent,
  type JobEventPage,
  type ListJobEventsRequest,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import { NatsRpcClient } from '@docflow/messaging';
import { LocalS3Server, createTestEnvironment, waitFor, type TestEnvironment } from '@docflow/local-platform';
import type { SubmitWorkflowRequest, WorkflowEngine } from '@docflow/workflow-engine';
import { loadJobsConfig, type JobsConfig } from '../config';
import { jobsDataSourceOptions } from '../data-source.options';
import { ApplyJobEventUseCase } from '../jobs/apply-job-event.usecase';
import { JobsService } from '../jobs/jobs.service';
import { JobsModule } from '../jobs.module';
import { JobEventsController } from './job-events.controller';
import { OutboxRelay } from './outbox.relay';

class IdleEngine implements WorkflowEngine {
  readonly kind = 'local' as const;
  async submit(request: SubmitWorkflowRequest) {
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

describe("jobs: a job's stored events as the SSE history", () => {
  let env: TestEnvironment;
  let s3: LocalS3Server;
  let config: JobsConfig;
  let nc: NatsConnection;
  let pg: Client;
  let context: INestApplicationContext;

  beforeAll(async () => {
    env = await createTestEnvironment('job_event_history');
    s3 = new LocalS3Server({ port: 0, directory: `${env.directory}/s3`, bucket: 'docflow' });
    const endpoint = await s3.start();
    config = loadJobsConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      SCHEDULER_ENABLED: 'false',
      OUTBOX_SWEEP_MS: '3600000',
      // No user-details here: this suite is about events, not quotas.
      QUOTAS: 'off',
    });
    const migrations = createServiceDataSource(jobsDataSourceOptions(config));
    await runMigrations(migrations);
    await migrations.destroy();
    nc = await connect({ servers: env.natsUrl });
    // users-docs: every document exists.
    nc.subscribe('users-docs.>', {
      callback: (_err, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data)) as {
          id: string;
          data: { userId: string; teamId?: string; docIds?: string[] };
        };
        const { data } = packet;
        const response =
          msg.subject === UsersDocsSubjects.documentResolve
            ? data.docIds!.map((docId) => ({
                docId,
                name: `${docId}.txt`,
                contentType: 'text/plain',
                size: 10,
                key: data.teamId
                  ? `teams/${data.teamId}/docs/${docId}`
                  : `users/${data.userId}/docs/${docId}`,
              }))
            : undefined;
        msg.respond(
          JSON.stringify(
            response
              ? { id: packet.id, response, isDisposed: true }
              : {
                  id: packet.id,
                  err: new DomainError(ErrorCode.INTERNAL, `unexpected ${msg.subject}`).toPayload(),
                  isDisposed: true,
                },
          ),
        );
      },
    });
    await nc.flush();
    pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    context = await NestFactory.createApplicationContext(JobsModule.forRoot(config, new IdleEngine()), {
      logger: false,
    });
    await waitFor(async () => context.get(NatsRpcClient).isConnected(), { description: 'NATS' });
  });

  afterAll(async () => {
    await context?.close();
    await pg?.end();
    await nc?.close();
    await s3?.stop();
    await env?.close();
  });

  const history = (request: ListJobEventsRequest): Promise<JobEventPage> =>
    context.get(JobEventsController).list(request);

  /** Every page from `after` on, following `nextCursor`. */
  async function all(request: ListJobEventsRequest): Promise<JobEventPage['items']> {
    const items: JobEventPage['items'] = [];
    for (let page = await history(request); ; page = await history({ ...request, after: page.nextCursor })) {
      items.push(...page.items);
      if (!page.nextCursor) return items;
    }
  }

  /** A job on one document whose step reports its stages, then fails the input for good: the job fails. */
  async function finishedJob(owner: { userId: string; teamId?: string }): Promise<string> {
    const job = await context
      .get(JobsService)
      .create({ ...owner, docIds: [randomUUID()], crew: 'summarize' });
    const row = (
      await pg.query(
        'SELECT j.callback_secret, i.input_id FROM jobs.jobs j JOIN jobs.job_inputs i ON i.job_id = j.id WHERE j.id = $1',
        [job.id],
      )
    ).rows[0] as { callback_secret: string; input_id: string };
    const at = () => new Date().toISOString();
    const base = { jobId: job.id, chunk: 0, inputId: row.input_id, docIds: [row.input_id] };
    const events: JobEvent[] = [
      {
        ...base,
        id: `${job.id}:0:${row.input_id}:stage_started:extract`,
        type: 'stage_started',
        stage: 'extract',
        at: at(),
      },
      {
        ...base,
        id: `${job.id}:0:${row.input_id}:stage_completed:extract`,
        type: 'stage_completed',
        stage: 'extract',
        at: at(),
      },
      {
        ...base,
        id: `${job.id}:0:${row.input_id}:stage_started:transform`,
        type: 'stage_started',
        stage: 'transform',
        at: at(),
      },
      {
        ...base,
        id: `${job.id}:0:${row.input_id}:doc_failed`,
        type: 'doc_failed',
        error: { kind: 'permanent', message: 'unreadable' },
        at: at(),
      },
    ];
    for (const event of events) await callback(job.id, row.callback_secret, event);
    await waitFor(
      async () =>
        (await pg.query('SELECT 1 FROM jobs.job_events WHERE job_id = $1 AND pending', [job.id])).rowCount ===
        0,
      { description: 'the outbox to publish the events' },
    );
    return job.id;
  }

  async function callback(jobId: string, secret: string, event: JobEvent): Promise<void> {
    const body = JSON.stringify(event);
    const timestamp = Math.floor(Date.now() / 1000);
    await context.get(ApplyJobEventUseCase).record({
      jobId,
      body,
      timestamp: String(timestamp),
      signature: signCallback(secret, timestamp, body),
    });
  }

  /** The job's messages in JOB_EVENTS: sequence, type and data, as the gateway's ordered consumer reads them. */
  async function streamed(jobId: string): Promise<{ id: string; type: string; data: unknown }[]> {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(JOB_EVENTS_STREAM, { subjects_filter: jobEventsSubject(jobId) });
    const count = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    const out: { id: string; type: string; data: unknown }[] = [];
    if (count === 0) return out;
    const options = consumerOpts();
    options.orderedConsumer();
    options.deliverAll();
    const sub = await nc.jetstream().subscribe(jobEventsSubject(jobId), options);
    for await (const m of sub) {
      const data = m.json<{ type: string }>();
      out.push({ id: String(m.seq), type: data.type, data });
      if (out.length === count) break;
    }
    sub.unsubscribe();
    return out;
  }

  it('records the stream sequence of each published event, and serves the same events with the same ids once the stream lost them', async () => {
    const userId = randomUUID();
    // Alongside another job, so the sequences of one job are not always consecutive.
    const [jobId] = await Promise.all([finishedJob({ userId }), finishedJob({ userId: randomUUID() })]);
    const live = await streamed(jobId);
    expect(live.map((e) => e.type)).toEqual([
      'job_started',
      'stage_started',
      'stage_completed',
      'stage_started',
      'doc_failed',
      'job_failed',
    ]);
    const stored = (
      await pg.query('SELECT stream_seq FROM jobs.job_events WHERE job_id = $1 ORDER BY seq', [jobId])
    ).rows.map((r: { stream_seq: string }) => r.stream_seq);
    expect(stored).toEqual(live.map((e) => e.id));

    // A late callback after the end is kept for the record, never published: not in the history.
    const late = (
      await pg.query(
        'SELECT j.callback_secret, i.input_id FROM jobs.jobs j JOIN jobs.job_inputs i ON i.job_id = j.id WHERE j.id = $1',
        [jobId],
      )
    ).rows[0] as { callback_secret: string; input_id: string };
    await callback(jobId, late.callback_secret, {
      id: `${jobId}:0:${late.input_id}:stage_started:load`,
      jobId,
      chunk: 0,
      inputId: late.input_id,
      docIds: [late.input_id],
      type: 'stage_started',
      stage: 'load',
      at: new Date().toISOString(),
    });
    expect(
      (await pg.query('SELECT count(*)::int AS n FROM jobs.job_events WHERE job_id = $1', [jobId])).rows[0].n,
    ).toBe(7);

    const jsm = await nc.jetstreamManager();
    await jsm.streams.purge(JOB_EVENTS_STREAM, { filter: jobEventsSubject(jobId) });
    expect(await streamed(jobId)).toEqual([]);

    const page = await history({ userId, jobId });
    expect(page).toEqual({ items: live, pending: false });
    // After an id in the middle: exactly the rest; after the final one: nothing.
    expect((await history({ userId, jobId, after: live[2]!.id })).items).toEqual(live.slice(3));
    expect(await history({ userId, jobId, after: live.at(-1)!.id })).toEqual({ items: [], pending: false });
    // A sequence of another job's event between two of this job's stands after the last of this job before it.
    const between = Number(live[1]!.id) + 1;
    if (between < Number(live[2]!.id))
      expect((await history({ userId, jobId, after: String(between) })).items).toEqual(live.slice(2));
    // Pages follow one another.
    expect(await all({ userId, jobId, limit: 2 })).toEqual(live);
    const first = await history({ userId, jobId, limit: 2 });
    expect(first.items).toEqual(live.slice(0, 2));
    expect(first.nextCursor).toMatch(/^pg-\d+$/);
  });

  it('serves events published before the sequence was kept with their row id, in order, resumable', async () => {
    const userId = randomUUID();
    const jobId = await finishedJob({ userId });
    const rows = (
      await pg.query('SELECT seq, stream_seq FROM jobs.job_events WHERE job_id = $1 ORDER BY seq', [jobId])
    ).rows as { seq: string; stream_seq: string }[];
    // The first three went out before the upgrade: no sequence recorded.
    await pg.query('UPDATE jobs.job_events SET stream_seq = NULL WHERE seq = ANY($1::bigint[])', [
      rows.slice(0, 3).map((r) => r.seq),
    ]);
    const ids = [...rows.slice(0, 3).map((r) => `pg-${r.seq}`), ...rows.slice(3).map((r) => r.stream_seq)];
    expect((await all({ userId, jobId })).map((e) => e.id)).toEqual(ids);
    expect((await all({ userId, jobId, after: ids[1] })).map((e) => e.id)).toEqual(ids.slice(2));
    expect((await all({ userId, jobId, after: ids[2] })).map((e) => e.id)).toEqual(ids.slice(3));
    expect((await all({ userId, jobId, after: ids[4] })).map((e) => e.id)).toEqual(ids.slice(5));
    // A sequence below every recorded one cannot be placed among the older events: they are sent again.
    expect((await all({ userId, jobId, after: '1' })).map((e) => e.id)).toEqual(ids);
  });

  it('stops before events still in the outbox, and says so; a publish JetStream drops as a repeat keeps the first sequence', async () => {
    const userId = randomUUID();
    const jobId = await finishedJob({ userId });
    const rows = (
      await pg.query('SELECT seq, stream_seq FROM jobs.job_events WHERE job_id = $1 ORDER BY seq', [jobId])
    ).rows as { seq: string; stream_seq: string }[];
    // As if the final event were still in the outbox (this service's sweep waits an hour).
    await pg.query('UPDATE jobs.job_events SET pending = true, stream_seq = NULL WHERE seq = $1', [
      rows.at(-1)!.seq,
    ]);
    const page = await history({ userId, jobId });
    expect(page.pending).toBe(true);
    expect(page.items.map((e) => e.id)).toEqual(rows.slice(0, -1).map((r) => r.stream_seq));
    expect(await history({ userId, jobId, after: rows.at(-2)!.stream_seq })).toEqual({
      items: [],
      pending: true,
    });
    // Published again within JetStream's duplicate window: the stream keeps one message, and its sequence.
    await context.get(OutboxRelay).flush(jobId);
    const again = await history({ userId, jobId });
    expect(again.pending).toBe(false);
    expect(again.items.map((e) => e.id)).toEqual(rows.map((r) => r.stream_seq));
  });

  it("answers only the job's owner: the user for their own jobs, the team for the team's", async () => {
    const userId = randomUUID();
    const teamId = randomUUID();
    const own = await finishedJob({ userId });
    const teams = await finishedJob({ userId, teamId });
    expect((await history({ userId, jobId: own })).items).toHaveLength(6);
    expect((await history({ userId: randomUUID(), teamId, jobId: teams })).items).toHaveLength(6);
    for (const ref of [
      { userId: randomUUID(), jobId: own },
      { userId, teamId, jobId: own },
      { userId, jobId: teams },
      { userId, teamId: randomUUID(), jobId: teams },
    ])
      await expect(history(ref)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(history({ userId, jobId: own, after: 'seven' })).rejects.toMatchObject({
      code: ErrorCode.VALIDATION_FAILED,
    });
    await expect(history({ userId, jobId: own, limit: 501 })).rejects.toMatchObject({
      code: ErrorCode.VALIDATION_FAILED,
    });
    expect(JobsSubjects.jobEvents).toBe('jobs.job.events');
  });
});
