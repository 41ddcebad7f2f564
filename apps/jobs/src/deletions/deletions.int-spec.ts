// The jobs service erasing a deleted user's jobs and schedules, and a deleted team's jobs, from identity's
// durable events, on the real PostgreSQL, a nats-server with JetStream and an S3 server of the test's own. The
// test plays identity (it publishes `identity.user.deleted` and `identity.team.deleted`), users-docs and
// key-vault; the workflow engine records what it is asked.
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { Client } from 'pg';
import {
  DomainError,
  ErrorCode,
  IDENTITY_EVENTS_STREAM,
  IdentityDeletionConsumers,
  IdentityEventSubjects,
  JOB_EVENTS_STREAM,
  UsersDocsSubjects,
  jobEventsSubject,
  jobManifestKey,
  jobOutputPrefix,
  signCallback,
  type JobEvent,
  type TeamDeletedEvent,
  type UserDeletedEvent,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import { NatsRpcClient } from '@docflow/messaging';
import {
  LocalS3Server,
  createTestEnvironment,
  waitFor,
  type TestEnvironment,
  waitForConsumerAck,
} from '@docflow/local-platform';
import { ObjectStorage } from '@docflow/storage';
import type { SubmitWorkflowRequest, WorkflowEngine } from '@docflow/workflow-engine';
import { loadJobsConfig, type JobsConfig } from '../config';
import { jobsDataSourceOptions } from '../data-source.options';
import { HealthController } from '../health/health.controller';
import { ApplyJobEventUseCase } from '../jobs/apply-job-event.usecase';
import { JobsService } from '../jobs/jobs.service';
import { JobsModule } from '../jobs.module';
import { SchedulesService } from '../schedules/schedules.service';
import { StepKeysUseCase } from '../jobs/step-keys.usecase';

/** Records what it is asked to start and stop; can be made unreachable. */
class RecordingEngine implements WorkflowEngine {
  readonly kind = 'local' as const;
  readonly submitted: SubmitWorkflowRequest[] = [];
  readonly cancelled: string[] = [];
  unavailable = false;
  async submit(request: SubmitWorkflowRequest) {
    this.submitted.push(request);
    return { workflowName: `wf-${request.jobId}` };
  }
  async cancel(jobId: string) {
    if (this.unavailable) throw new Error('the engine cannot be reached');
    this.cancelled.push(jobId);
  }
  async status() {
    return undefined;
  }
  watch(_onStatus: unknown, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve()));
  }
}

type Packet = { id: string; data: Record<string, unknown> };

/** Answers `subject.>` with `handle` as a NestJS service would. */
function answer(nc: NatsConnection, subjects: string, handle: (subject: string, data: never) => unknown) {
  return nc.subscribe(subjects, {
    callback: (_err, msg) => {
      const packet = JSON.parse(new TextDecoder().decode(msg.data)) as Packet;
      let reply: unknown;
      try {
        reply = { id: packet.id, response: handle(msg.subject, packet.data as never), isDisposed: true };
      } catch (error) {
        reply = { id: packet.id, err: (error as DomainError).toPayload(), isDisposed: true };
      }
      msg.respond(JSON.stringify(reply));
    },
  });
}

describe('jobs: erasing a deleted user', () => {
  let env: TestEnvironment;
  let s3: LocalS3Server;
  let config: JobsConfig;
  let nc: NatsConnection;
  let pg: Client;
  let context: INestApplicationContext | undefined;
  let keyVault: Subscription | undefined;
  const engine = new RecordingEngine();
  /** Grants the vault was asked to revoke, by job. */
  const revoked: string[] = [];
  /** What the jobs service asked users-docs (subject and payload). */
  const usersDocs: { subject: string; data: Record<string, unknown> }[] = [];

  function answerAsKeyVault(): Subscription {
    return answer(nc, 'key-vault.grant.*', (subject, data: { jobId: string; expiresAt?: string }) => {
      if (subject.endsWith('.revoke')) {
        revoked.push(data.jobId);
        return { revoked: 1 };
      }
      return { ...data, provider: 'openai' };
    });
  }

  async function start(): Promise<INestApplicationContext> {
    const app = await NestFactory.createApplicationContext(JobsModule.forRoot(config, engine), {
      logger: false,
    });
    await waitFor(async () => app.get(NatsRpcClient).isConnected(), { description: 'NATS' });
    await waitFor(async () => (await app.get(HealthController).check()).status === 'ok', {
      description: 'the deletions consumer to bind',
    });
    return app;
  }

  /**
   * A job of the user (of the team, with `teamId`) on one document, started (the recording engine runs nothing:
   * it stays submitted).
   */
  async function newJob(
    userId: string,
    options: { apiKeyId?: string; teamId?: string; idempotencyKey?: string } = {},
  ): Promise<string> {
    const job = await context!.get(JobsService).create({
      userId,
      ...(options.teamId ? { teamId: options.teamId } : {}),
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      docIds: [randomUUID()],
      crew: 'summarize',
      ...(options.apiKeyId ? { options: { apiKeyId: options.apiKeyId } } : {}),
    });
    return job.id;
  }

  async function newSchedule(userId: string): Promise<string> {
    const schedule = await context!.get(SchedulesService).create({
      userId,
      every: 'daily',
      at: '09:00',
      timezone: 'UTC',
      documents: { filter: {} },
      crew: 'summarize',
    });
    // A run of it, as the scheduler leaves them.
    await pg.query(
      `INSERT INTO jobs.schedule_runs (id, schedule_id, slot_at, status, created_at)
       VALUES ($1, $2, now(), 'launched', now())`,
      [randomUUID(), schedule.id],
    );
    return schedule.id;
  }

  /** What the service holds of the user, row counts per table. */
  async function held(userId: string) {
    const count = async (sql: string) => Number((await pg.query(sql, [userId])).rows[0].count);
    return {
      jobs: await count('SELECT count(*) FROM jobs.jobs WHERE user_id = $1'),
      inputs: await count(
        'SELECT count(*) FROM jobs.job_inputs i JOIN jobs.jobs j ON j.id = i.job_id WHERE j.user_id = $1',
      ),
      schedules: await count('SELECT count(*) FROM jobs.schedules WHERE user_id = $1'),
      runs: await count(
        'SELECT count(*) FROM jobs.schedule_runs r JOIN jobs.schedules s ON s.id = r.schedule_id WHERE s.user_id = $1',
      ),
    };
  }

  async function eventsOf(jobIds: string[]): Promise<{ stored: number; streamed: number }> {
    const stored = await pg.query('SELECT count(*) FROM jobs.job_events WHERE job_id = ANY($1)', [jobIds]);
    const jsm = await nc.jetstreamManager();
    let streamed = 0;
    for (const jobId of jobIds) {
      const info = await jsm.streams.info(JOB_EVENTS_STREAM, { subjects_filter: jobEventsSubject(jobId) });
      streamed += Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    }
    return { stored: Number(stored.rows[0].count), streamed };
  }

  const deleted = (userId: string): UserDeletedEvent => ({
    eventId: randomUUID(),
    userId,
    deletedAt: new Date().toISOString(),
  });

  async function publish(event: UserDeletedEvent | TeamDeletedEvent): Promise<number> {
    const subject = 'teamId' in event ? IdentityEventSubjects.teamDeleted : IdentityEventSubjects.userDeleted;
    return (await nc.jetstream().publish(subject, JSON.stringify(event))).seq;
  }

  const teamDeleted = (teamId: string): TeamDeletedEvent => ({
    eventId: randomUUID(),
    teamId,
    deletedAt: new Date().toISOString(),
  });

  /** The team's deletions, on their own consumer. */
  const teamConsumed = (seq: number) =>
    waitForConsumerAck(nc, IDENTITY_EVENTS_STREAM, IdentityDeletionConsumers.jobsTeams, seq);

  /** A step of the job reports its one input done, with its output written (signed as a step signs). */
  async function completeInput(jobId: string, owner: { userId: string; teamId?: string }): Promise<string> {
    const row = (
      await pg.query(
        'SELECT j.callback_secret, i.input_id FROM jobs.jobs j JOIN jobs.job_inputs i ON i.job_id = j.id WHERE j.id = $1',
        [jobId],
      )
    ).rows[0] as { callback_secret: string; input_id: string };
    const prefix = jobOutputPrefix(owner, jobId);
    const markdownKey = `${prefix}${row.input_id}.md`;
    const storage = context!.get(ObjectStorage);
    await storage.put(markdownKey, '# out', 'text/markdown');
    await storage.put(`${prefix}${row.input_id}.json`, '{}', 'application/json');
    const event: JobEvent = {
      id: `${jobId}:0:${row.input_id}:doc_completed`,
      jobId,
      type: 'doc_completed',
      at: new Date().toISOString(),
      chunk: 0,
      inputId: row.input_id,
      docIds: [row.input_id],
      output: { markdownKey, sidecarKey: `${prefix}${row.input_id}.json`, bytes: 5 },
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    };
    const body = JSON.stringify(event);
    const timestamp = Math.floor(Date.now() / 1000);
    await context!.get(ApplyJobEventUseCase).record({
      jobId,
      body,
      timestamp: String(timestamp),
      signature: signCallback(row.callback_secret, timestamp, body),
    });
    return markdownKey;
  }

  /** Every event up to `seq` was acked (or terminated): nothing pending, nothing waiting for an ack. */
  const consumed = (seq: number) =>
    waitForConsumerAck(nc, IDENTITY_EVENTS_STREAM, IdentityDeletionConsumers.jobs, seq);

  beforeAll(async () => {
    env = await createTestEnvironment('jobs_deletions');
    s3 = new LocalS3Server({ port: 0, directory: `${env.directory}/s3`, bucket: 'docflow' });
    const endpoint = await s3.start();
    config = loadJobsConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      // No user-details here: quotas have their own int-spec.
      QUOTAS: 'off',
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      SCHEDULER_ENABLED: 'false',
      DELETION_RETRY_BASE_MS: '100',
      DELETION_RETRY_MAX_MS: '300',
    });
    const migrations = createServiceDataSource(jobsDataSourceOptions(config));
    await runMigrations(migrations);
    await migrations.destroy();
    nc = await connect({ servers: env.natsUrl });
    // users-docs: every document exists, every user too.
    answer(nc, 'users-docs.>', (subject, data: { userId: string; teamId?: string; docIds?: string[] }) => {
      usersDocs.push({ subject, data });
      if (subject === UsersDocsSubjects.documentResolve)
        return data.docIds!.map((docId) => ({
          docId,
          name: `${docId}.txt`,
          contentType: 'text/plain',
          size: 10,
          key: data.teamId ? `teams/${data.teamId}/docs/${docId}` : `users/${data.userId}/docs/${docId}`,
        }));
      if (subject === UsersDocsSubjects.documentRegisterOutput)
        return {
          id: randomUUID(),
          userId: data.userId,
          ...(data.teamId ? { teamId: data.teamId } : {}),
          name: 'out.md',
          kind: 'output',
          contentType: 'text/markdown',
          size: 5,
          status: 'uploaded',
          createdAt: new Date().toISOString(),
          updatedAt: new Date().toISOString(),
        };
      if (subject === UsersDocsSubjects.userGet)
        return { id: data.userId, name: 'U', email: 'u@example.com' };
      throw new DomainError(ErrorCode.INTERNAL, `unexpected ${subject}`);
    });
    keyVault = answerAsKeyVault();
    await nc.flush();
    pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    context = await start();
  });

  afterAll(async () => {
    await context?.close();
    await pg?.end();
    await nc?.close();
    await s3?.stop();
    await env?.close();
  });

  it('reports the consumer in its health', async () => {
    expect((await context!.get(HealthController).check()).checks).toEqual({
      database: { status: 'ok' },
      events: { status: 'ok' },
    });
  });

  it("stops the user's active jobs as a cancel does, then removes their jobs, events, grants, schedules and manifests; nobody else's", async () => {
    const userId = randomUUID();
    const other = randomUUID();
    const running = await newJob(userId, { apiKeyId: randomUUID() });
    const finished = await newJob(userId, { apiKeyId: randomUUID() });
    await context!.get(JobsService).cancel({ jobId: finished, userId });
    // Its end revoked its grant (best effort, in the background); the erasure revokes again, awaited.
    await waitFor(async () => revoked.includes(finished), { description: 'the end of the job to revoke' });
    revoked.length = 0;
    const schedule = await newSchedule(userId);
    const othersJob = await newJob(other, { apiKeyId: randomUUID() });
    await newSchedule(other);
    const storage = context!.get(ObjectStorage);
    expect(await storage.head(jobManifestKey(userId, running))).toBeDefined();
    // A late output a step wrote before it was stopped.
    await storage.put(`users/${userId}/jobs/${running}/outputs/late.md`, 'late', 'text/markdown');
    const secret = (await pg.query('SELECT callback_secret FROM jobs.jobs WHERE id = $1', [running])).rows[0]
      .callback_secret as string;
    // The finished job's events reached the stream before.
    await waitFor(async () => (await eventsOf([finished])).streamed > 0, {
      description: 'the events streamed',
    });
    expect(await held(userId)).toEqual({ jobs: 2, inputs: 2, schedules: 1, runs: 1 });
    const cancelsBefore = engine.cancelled.length;

    const event = deleted(userId.toUpperCase());
    await publish(event);
    await consumed(await publish(event)); // identity published it twice

    // Only the active job was stopped, once; the ended one was left to rest.
    expect(engine.cancelled.slice(cancelsBefore)).toEqual([running]);
    expect(revoked).toEqual(expect.arrayContaining([running, finished]));
    expect(await held(userId)).toEqual({ jobs: 0, inputs: 0, schedules: 0, runs: 0 });
    expect(await eventsOf([running, finished])).toEqual({ stored: 0, streamed: 0 });
    expect(await storage.head(jobManifestKey(userId, running))).toBeUndefined();
    expect(await storage.head(`users/${userId}/jobs/${running}/outputs/late.md`)).toBeUndefined();
    expect((await pg.query('SELECT 1 FROM jobs.schedules WHERE id = $1', [schedule])).rowCount).toBe(0);

    // Everybody else's is untouched.
    expect(await held(other)).toEqual({ jobs: 1, inputs: 1, schedules: 1, runs: 1 });
    expect(await storage.head(jobManifestKey(other, othersJob))).toBeDefined();
    expect(revoked).not.toContain(othersJob);

    // A late callback or key request of a deleted job is refused as an unknown job (404 to the step), not a 500.
    const body = JSON.stringify({
      id: `${running}:c0:i0:stage_started`,
      jobId: running,
      type: 'stage_started',
      at: new Date().toISOString(),
      inputId: 'i0',
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = signCallback(secret, Number(timestamp), body);
    await expect(
      context!.get(ApplyJobEventUseCase).record({ jobId: running, body, timestamp, signature }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(
      context!.get(StepKeysUseCase).providerKey({ jobId: running, body: '{}', timestamp, signature }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    // The engine's late report of the stopped workflow is ignored.
    await expect(
      context!.get(JobsService).reconcile({ jobId: running, workflowName: `wf-${running}`, phase: 'Failed' }),
    ).resolves.toBeUndefined();
  });

  it('acknowledges the deletion of a user it never knew', async () => {
    const cancels = engine.cancelled.length;
    await consumed(await publish(deleted(randomUUID())));
    expect(engine.cancelled.length).toBe(cancels);
  });

  it('finishes the work when the event comes back after a failure halfway (engine, then key-vault unavailable)', async () => {
    const userId = randomUUID();
    const first = await newJob(userId, { apiKeyId: randomUUID() });
    const second = await newJob(userId);
    await newSchedule(userId);
    engine.unavailable = true;
    const seq = await publish(deleted(userId));
    const jsm = await nc.jetstreamManager();
    // Deliveries so far, redeliveries included.
    const deliveries = async () =>
      (await jsm.consumers.info(IDENTITY_EVENTS_STREAM, IdentityDeletionConsumers.jobs)).delivered
        .consumer_seq;
    const before = await deliveries();
    // The schedules went first: nothing starts again; the jobs could not be stopped, so they stay.
    await waitFor(async () => (await deliveries()) > before + 1, { description: 'a retry' });
    expect(await held(userId)).toMatchObject({ schedules: 0, runs: 0, jobs: 2 });
    const statuses = async () =>
      (await pg.query('SELECT status FROM jobs.jobs WHERE user_id = $1 ORDER BY id', [userId])).rows.map(
        (r: { status: string }) => r.status,
      );
    expect(await statuses()).toEqual(['submitted', 'submitted']);

    // The engine is back, key-vault is not: the jobs are stopped and cancelled, the rows stay for the retry.
    keyVault!.unsubscribe();
    await nc.flush();
    engine.unavailable = false;
    await waitFor(async () => (await statuses()).every((s) => s === 'cancelled'), {
      description: 'the jobs cancelled',
    });
    const retries = await deliveries();
    await waitFor(async () => (await deliveries()) > retries + 1, { description: 'another retry' });
    expect(await held(userId)).toMatchObject({ jobs: 2 });

    keyVault = answerAsKeyVault();
    await nc.flush();
    await consumed(seq);
    expect(await held(userId)).toEqual({ jobs: 0, inputs: 0, schedules: 0, runs: 0 });
    expect(engine.cancelled.filter((id) => id === first || id === second).sort()).toEqual(
      [first, second].sort(),
    );
    expect(revoked).toContain(first);
  });

  it('erases a user deleted while the service was down once it is back', async () => {
    const userId = randomUUID();
    const job = await newJob(userId);
    await newSchedule(userId);
    await context!.close();
    context = undefined;
    const seq = await publish(deleted(userId));
    const jsm = await nc.jetstreamManager();
    const info = await jsm.consumers.info(IDENTITY_EVENTS_STREAM, IdentityDeletionConsumers.jobs);
    expect(info.num_pending).toBe(1);
    expect(await held(userId)).toEqual({ jobs: 1, inputs: 1, schedules: 1, runs: 1 });

    context = await start();
    await consumed(seq);
    expect(await held(userId)).toEqual({ jobs: 0, inputs: 0, schedules: 0, runs: 0 });
    expect(engine.cancelled).toContain(job);
  });

  describe('team jobs', () => {
    /** What the service holds of a team: its jobs and their inputs. */
    async function heldByTeam(teamId: string) {
      const count = async (sql: string) => Number((await pg.query(sql, [teamId])).rows[0].count);
      return {
        jobs: await count('SELECT count(*) FROM jobs.jobs WHERE team_id = $1'),
        inputs: await count(
          'SELECT count(*) FROM jobs.job_inputs i JOIN jobs.jobs j ON j.id = i.job_id WHERE j.team_id = $1',
        ),
      };
    }

    it("are the team's: resolved and registered with the team, listed by the team only, one Idempotency-Key per owner", async () => {
      const member = randomUUID();
      const other = randomUUID();
      const teamId = randomUUID();
      const jobs = context!.get(JobsService);
      usersDocs.length = 0;
      const key = `k-${randomUUID()}`;
      const docIds = [randomUUID()];
      const teamJob = await jobs.create({ userId: member, teamId, docIds, idempotencyKey: key });
      expect(teamJob).toMatchObject({ userId: member, teamId });
      expect(usersDocs[0]).toEqual({
        subject: UsersDocsSubjects.documentResolve,
        data: { userId: member, teamId, docIds },
      });
      // Another member sending the same key and request gets the team's job; the same key is the member's own
      // for their own jobs.
      expect((await jobs.create({ userId: other, teamId, docIds, idempotencyKey: key })).id).toBe(teamJob.id);
      await expect(
        jobs.create({ userId: other, teamId, docIds: [randomUUID()], idempotencyKey: key }),
      ).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_KEY_REUSED });
      const ownJob = await jobs.create({ userId: member, docIds, idempotencyKey: key });
      expect(ownJob.id).not.toBe(teamJob.id);
      expect(ownJob.teamId).toBeUndefined();

      // The member's own list has their own job only; the team's has the team's, whoever started it.
      expect((await jobs.list({ userId: member })).items.map((j) => j.id)).toEqual([ownJob.id]);
      expect((await jobs.list({ userId: other, teamId })).items.map((j) => j.id)).toEqual([teamJob.id]);
      await expect(jobs.get({ userId: member, jobId: teamJob.id })).rejects.toMatchObject({
        code: ErrorCode.NOT_FOUND,
      });
      await expect(
        jobs.get({ userId: member, teamId: randomUUID(), jobId: teamJob.id }),
      ).rejects.toMatchObject({
        code: ErrorCode.NOT_FOUND,
      });
      await expect(jobs.get({ userId: other, teamId, jobId: ownJob.id })).rejects.toMatchObject({
        code: ErrorCode.NOT_FOUND,
      });
      expect((await jobs.inputs({ userId: other, teamId, jobId: teamJob.id })).items).toHaveLength(1);

      // Its objects are the team's; its output becomes a document of the team.
      const storage = context!.get(ObjectStorage);
      expect(await storage.head(jobManifestKey({ userId: member, teamId }, teamJob.id))).toBeDefined();
      expect(engine.submitted.find((r) => r.jobId === teamJob.id)).toMatchObject({
        manifestKey: `teams/${teamId}/jobs/${teamJob.id}/manifest.json`,
      });
      const output = await completeInput(teamJob.id, { userId: member, teamId });
      expect(
        usersDocs.find((r) => r.subject === UsersDocsSubjects.documentRegisterOutput)?.data,
      ).toMatchObject({
        userId: member,
        teamId,
        jobId: teamJob.id,
        key: output,
      });
      expect((await jobs.get({ userId: other, teamId, jobId: teamJob.id })).outputDocIds).toHaveLength(1);
    });

    it("a member's account deletion leaves the team's jobs they started; the team's deletion stops and erases them, but the outputs that are the team's documents", async () => {
      const member = randomUUID();
      const teamId = randomUUID();
      const otherTeam = randomUUID();
      const own = await newJob(member);
      const running = await newJob(member, { teamId, apiKeyId: randomUUID() });
      const done = await newJob(member, { teamId });
      const output = await completeInput(done, { userId: member, teamId });
      const othersTeamJob = await newJob(member, { teamId: otherTeam });
      const storage = context!.get(ObjectStorage);
      const late = `${jobOutputPrefix({ userId: member, teamId }, running)}late.md`;
      await storage.put(late, 'late', 'text/markdown');
      await waitFor(async () => (await eventsOf([done])).streamed > 0, {
        description: 'the events streamed',
      });

      // The member goes: their own job goes, the team's stay (running, objects in place).
      const cancelsBefore = engine.cancelled.length;
      await consumed(await publish(deleted(member)));
      expect((await pg.query('SELECT 1 FROM jobs.jobs WHERE id = $1', [own])).rowCount).toBe(0);
      expect(await heldByTeam(teamId)).toEqual({ jobs: 2, inputs: 2 });
      expect(engine.cancelled.slice(cancelsBefore)).toEqual([own]);
      expect(await storage.head(jobManifestKey({ userId: member, teamId }, running))).toBeDefined();
      expect(await context!.get(JobsService).get({ userId: member, teamId, jobId: running })).toMatchObject({
        status: 'submitted',
      });

      // The team goes (identity publishes it twice): its jobs are stopped, then erased with their events.
      revoked.length = 0;
      const event = teamDeleted(teamId.toUpperCase());
      await publish(event);
      await teamConsumed(await publish(event));
      expect(engine.cancelled.slice(cancelsBefore)).toEqual([own, running]);
      // Revoked at the cancel (best effort) and by the erasure (awaited): only the key of the team's job.
      expect([...new Set(revoked)]).toEqual([running]);
      expect(await heldByTeam(teamId)).toEqual({ jobs: 0, inputs: 0 });
      expect(await eventsOf([running, done])).toEqual({ stored: 0, streamed: 0 });
      expect(await storage.head(jobManifestKey({ userId: member, teamId }, running))).toBeUndefined();
      expect(await storage.head(jobManifestKey({ userId: member, teamId }, done))).toBeUndefined();
      expect(await storage.head(late)).toBeUndefined();
      expect(await storage.head(output.replace(/\.md$/, '.json'))).toBeUndefined();
      // The output that became the team's document is users-docs' to erase.
      expect(await storage.head(output)).toBeDefined();

      // Another team's job is untouched.
      expect(await heldByTeam(otherTeam)).toEqual({ jobs: 1, inputs: 1 });
      expect(
        await storage.head(jobManifestKey({ userId: member, teamId: otherTeam }, othersTeamJob)),
      ).toBeDefined();
    });

    it('acknowledges the deletion of a team it never knew', async () => {
      const cancels = engine.cancelled.length;
      await teamConsumed(await publish(teamDeleted(randomUUID())));
      expect(engine.cancelled.length).toBe(cancels);
    });
  });
});
