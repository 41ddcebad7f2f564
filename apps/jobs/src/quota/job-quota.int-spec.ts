// maxJobsPerDay on the real PostgreSQL: the rolling 24-hour window, Retry-After, two creates at the limit at the
// same moment (exactly one gets in: the per-user advisory lock around the count and the insert), a schedule's
// slot refused by the quota (its run fails with the reason, never retried), user-details unknown or down.
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { Client } from 'pg';
import {
  DomainError,
  ErrorCode,
  PLAN_QUOTAS,
  UserDetailsSubjects,
  UsersDocsSubjects,
  type Plan,
  type Quota,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import { NatsRpcClient } from '@docflow/messaging';
import { LocalS3Server, createTestEnvironment, waitFor, type TestEnvironment } from '@docflow/local-platform';
import type { SubmitWorkflowRequest, WorkflowEngine } from '@docflow/workflow-engine';
import { Clock } from '../common/clock';
import { loadJobsConfig, type JobsConfig } from '../config';
import { jobsDataSourceOptions } from '../data-source.options';
import { JobEntity } from '../jobs/job.entity';
import { JobsRepository } from '../jobs/jobs.repository';
import { JobsService } from '../jobs/jobs.service';
import { JobsModule } from '../jobs.module';
import { Scheduler } from '../schedules/scheduler';
import { SchedulesService } from '../schedules/schedules.service';
import { JobQuota } from './job-quota';

class RecordingEngine implements WorkflowEngine {
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

/** users-docs (every id resolves to an uploaded document of the user) and user-details (quotas), on NATS. */
class FakeServices {
  readonly quotas = new Map<string, { plan: Plan; quota: Quota }>();
  userDetailsDown = false;
  private subscriptions: Subscription[] = [];

  start(nc: NatsConnection): void {
    for (const [subject, queue] of [
      ['users-docs.>', 'users-docs'],
      ['user-details.>', 'user-details'],
    ] as const) {
      const subscription = nc.subscribe(subject, { queue });
      this.subscriptions.push(subscription);
      void (async () => {
        for await (const message of subscription) {
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
  }

  stop(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private handle(subject: string, data: Record<string, unknown>): unknown {
    const userId = data.userId as string;
    switch (subject) {
      case UserDetailsSubjects.get: {
        if (this.userDetailsDown)
          throw new DomainError(
            ErrorCode.SERVICE_UNAVAILABLE,
            'The database is unavailable; try again shortly',
          );
        const found = this.quotas.get(userId);
        if (!found) throw DomainError.notFound('user details');
        return found;
      }
      case UsersDocsSubjects.userGet:
        return { id: userId, name: 'U', email: 'u@example.com' };
      case UsersDocsSubjects.documentResolve:
        return (data.docIds as string[]).map((docId) => ({
          docId,
          name: `${docId}.txt`,
          contentType: 'text/plain',
          size: 10,
          key: `users/${userId}/docs/${docId}/a.txt`,
        }));
      default:
        throw new DomainError(ErrorCode.INTERNAL, `unexpected ${subject}`);
    }
  }
}

describe('maxJobsPerDay on PostgreSQL', () => {
  let env: TestEnvironment;
  let s3: LocalS3Server;
  let config: JobsConfig;
  let nc: NatsConnection;
  let pg: Client;
  let context: INestApplicationContext;
  let jobs: JobsService;
  let quota: JobQuota;
  const services = new FakeServices();
  let now = new Date('2026-06-10T08:00:00Z');

  function newUser(limits: Partial<Quota> = {}, plan: Plan = 'free'): string {
    const id = randomUUID();
    services.quotas.set(id, { plan, quota: { ...PLAN_QUOTAS[plan], ...limits } });
    return id;
  }

  const start = (userId: string, idempotencyKey?: string, docId = randomUUID()) =>
    jobs.create({ userId, docIds: [docId], ...(idempotencyKey ? { idempotencyKey } : {}) });

  async function jobsOfUser(userId: string): Promise<number> {
    const { rows } = await pg.query<{ n: string }>('SELECT count(*) AS n FROM jobs.jobs WHERE user_id = $1', [
      userId,
    ]);
    return Number(rows[0]!.n);
  }

  beforeAll(async () => {
    env = await createTestEnvironment('jobquota');
    s3 = new LocalS3Server({ port: 0, directory: `${env.directory}/s3`, bucket: 'docflow' });
    const endpoint = await s3.start();
    config = loadJobsConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      SCHEDULER_ENABLED: 'false',
      QUOTA_CACHE_MS: '0',
    });
    const migrations = createServiceDataSource(jobsDataSourceOptions(config));
    await runMigrations(migrations);
    await migrations.destroy();
    nc = await connect({ servers: env.natsUrl });
    services.start(nc);
    pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    context = await NestFactory.createApplicationContext(JobsModule.forRoot(config, new RecordingEngine()), {
      logger: false,
    });
    context.get(Clock).now = () => new Date(now);
    await waitFor(async () => context.get(NatsRpcClient).isConnected(), { description: 'NATS' });
    jobs = context.get(JobsService);
    quota = context.get(JobQuota);
  });

  afterAll(async () => {
    await context?.close();
    services.stop();
    await pg?.end();
    await nc?.close();
    await s3?.stop();
    await env?.close();
  });

  beforeEach(() => {
    now = new Date('2026-06-10T08:00:00Z');
    services.userDetailsDown = false;
  });

  it('refuses the job past maxJobsPerDay with the numbers and Retry-After, and lets one in as the window rolls on', async () => {
    const userId = newUser({ maxJobsPerDay: 2 });
    await start(userId);
    now = new Date('2026-06-10T09:00:00Z');
    await start(userId);
    now = new Date('2026-06-10T10:00:00Z');
    await expect(start(userId)).rejects.toMatchObject({
      code: ErrorCode.QUOTA_EXCEEDED,
      message:
        'maxJobsPerDay: 2 jobs in the last 24 hours; the quota of plan free allows 2; the next job can start in 79,200 s',
      // The first job (08:00) leaves the window at 08:00 tomorrow: 22 hours from now.
      details: {
        field: 'quota.maxJobsPerDay',
        limit: 2,
        used: 2,
        requested: 1,
        plan: 'free',
        retryAfterSeconds: 79_200,
      },
    });
    expect(await jobsOfUser(userId)).toBe(2);

    now = new Date('2026-06-11T08:00:00Z'); // exactly 24 hours after the first: it no longer counts
    await start(userId);
    await expect(start(userId)).rejects.toMatchObject({ details: { used: 2, retryAfterSeconds: 3_600 } });
  });

  it('after the quota is lowered below what was started, Retry-After waits for enough of them to leave', async () => {
    const userId = newUser({ maxJobsPerDay: 5 });
    for (const hour of ['08', '09', '10', '11']) {
      now = new Date(`2026-06-10T${hour}:00:00Z`);
      await start(userId);
    }
    services.quotas.set(userId, { plan: 'pro', quota: { ...PLAN_QUOTAS.pro, maxJobsPerDay: 2 } });
    // 4 started, 2 allowed: a place frees once three have left, the 10:00 one at 10:00 tomorrow.
    await expect(start(userId)).rejects.toMatchObject({
      details: { used: 4, limit: 2, plan: 'pro', retryAfterSeconds: 23 * 3600 },
    });
    services.quotas.set(userId, { plan: 'pro', quota: { ...PLAN_QUOTAS.pro, maxJobsPerDay: 0 } });
    const refused = await start(userId).catch((error: DomainError) => error);
    expect(refused).toMatchObject({ code: ErrorCode.QUOTA_EXCEEDED, details: { limit: 0 } });
    expect((refused as DomainError).details).not.toHaveProperty('retryAfterSeconds');
  });

  it("counts the team jobs the user starts (a team is no way around the quota), never another member's", async () => {
    const userId = newUser({ maxJobsPerDay: 2 });
    const other = newUser({ maxJobsPerDay: 1 });
    const teamId = randomUUID();
    const forTeam = (member: string) => jobs.create({ userId: member, teamId, docIds: [randomUUID()] });
    await forTeam(userId);
    await forTeam(other);
    await start(userId);
    await expect(forTeam(userId)).rejects.toMatchObject({
      code: ErrorCode.QUOTA_EXCEEDED,
      details: { field: 'quota.maxJobsPerDay', used: 2 },
    });
    await expect(start(userId)).rejects.toMatchObject({ code: ErrorCode.QUOTA_EXCEEDED });
  });

  it('lets two creates at the limit race: exactly one gets in', async () => {
    const userId = newUser({ maxJobsPerDay: 3 });
    await start(userId);
    await start(userId);
    // Both pass the check without the lock (2 < 3), both transactions are open, then both check under the lock.
    const admits = [await quota.admission(userId), await quota.admission(userId)];
    const repository = context.get(JobsRepository);
    const job = () =>
      Object.assign(new JobEntity(), {
        id: randomUUID(),
        userId,
        status: 'queued' as const,
        crew: 'summarize',
        strategy: 'individual' as const,
        params: {},
        model: { provider: 'offline', model: 'extractive' },
        docIds: [],
        idempotencyKey: null,
        requestHash: null,
        apiKeyId: null,
        engine: 'local' as const,
        workflowName: null,
        manifestKey: 'm',
        callbackSecret: 's',
        chunkCount: 0,
        usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
        inputsTotal: 0,
        inputsOpen: 0,
        inputsCompleted: 0,
        progressSum: 0,
        error: null,
        createdAt: new Date(now),
        updatedAt: new Date(now),
        submittedAt: null,
        startedAt: null,
        finishedAt: null,
      });
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothOpen = new Promise<void>((resolve) => (release = resolve));
    const results = await Promise.allSettled(
      admits.map((admit) =>
        repository.insert(job(), [], async (tx) => {
          if (++arrived === 2) release();
          await bothOpen;
          await admit!(tx);
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({
      code: ErrorCode.QUOTA_EXCEEDED,
      details: { field: 'quota.maxJobsPerDay', used: 3 },
    });
    expect(await jobsOfUser(userId)).toBe(3);
  });

  it('lets concurrent creates through the service past the limit never', async () => {
    const userId = newUser({ maxJobsPerDay: 3 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => start(userId)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(await jobsOfUser(userId)).toBe(3);
  });

  it('answers the job an Idempotency-Key already made even at the limit', async () => {
    const userId = newUser({ maxJobsPerDay: 1 });
    const docId = randomUUID();
    const first = await start(userId, 'key-1', docId);
    expect((await start(userId, 'key-1', docId)).id).toBe(first.id);
    await expect(start(userId, 'key-2')).rejects.toMatchObject({ code: ErrorCode.QUOTA_EXCEEDED });
  });

  it("gives a user user-details does not know the free plan's 20 a day", async () => {
    const userId = randomUUID();
    for (let i = 0; i < 20; i++) await start(userId);
    await expect(start(userId)).rejects.toMatchObject({
      details: { field: 'quota.maxJobsPerDay', limit: 20, plan: 'free' },
    });
  });

  it('answers 503, and starts nothing, when user-details does not answer', async () => {
    const userId = newUser();
    services.userDetailsDown = true;
    await expect(start(userId)).rejects.toMatchObject({
      code: ErrorCode.SERVICE_UNAVAILABLE,
      message: expect.stringMatching(/^The quota cannot be checked/),
    });
    expect(await jobsOfUser(userId)).toBe(0);
  });

  it("fails a schedule's slot refused by the quota with the reason, never retries it, and runs the next slot", async () => {
    const userId = newUser({ maxJobsPerDay: 1 });
    await start(userId); // 08:00: the day's one job
    const schedules = context.get(SchedulesService);
    const scheduler = context.get(Scheduler);
    const schedule = await schedules.create({
      userId,
      cron: '0 12 * * *',
      timezone: 'UTC',
      documents: { docIds: [randomUUID()] },
    });
    const runs = async () =>
      (
        await pg.query<{ status: string; error: string | null; attempts: number; job_ids: string[] }>(
          'SELECT status, error, attempts, job_ids FROM jobs.schedule_runs WHERE schedule_id = $1 ORDER BY slot_at',
          [schedule.id],
        )
      ).rows;

    now = new Date('2026-06-10T12:00:00Z');
    await scheduler.tick();
    expect(await runs()).toEqual([
      {
        status: 'failed',
        error:
          'maxJobsPerDay: 1 jobs in the last 24 hours; the quota of plan free allows 1; the next job can start in 72,000 s',
        attempts: 1,
        job_ids: [],
      },
    ]);
    expect(await schedules.get({ userId, scheduleId: schedule.id })).toMatchObject({
      enabled: true,
      lastRun: { status: 'failed' },
    });
    now = new Date('2026-06-10T13:00:00Z');
    await scheduler.tick();
    expect(await runs()).toHaveLength(1);
    expect((await runs())[0]!.attempts).toBe(1);

    now = new Date('2026-06-11T12:00:00Z');
    await scheduler.tick();
    expect((await runs()).map((r) => r.status)).toEqual(['failed', 'launched']);
  });

  it("retries a schedule's slot while user-details does not answer, then launches it", async () => {
    const userId = newUser();
    const schedules = context.get(SchedulesService);
    const scheduler = context.get(Scheduler);
    const schedule = await schedules.create({
      userId,
      every: 'daily',
      timezone: 'UTC',
      documents: { docIds: [randomUUID()] },
      runNow: true,
    });
    services.userDetailsDown = true;
    await scheduler.tick();
    const status = async () =>
      (
        await pg.query<{ status: string }>('SELECT status FROM jobs.schedule_runs WHERE schedule_id = $1', [
          schedule.id,
        ])
      ).rows[0]!.status;
    expect(await status()).toBe('pending');
    services.userDetailsDown = false;
    now = new Date(now.getTime() + 60_000);
    await scheduler.tick();
    expect(await status()).toBe('launched');
  });
});
