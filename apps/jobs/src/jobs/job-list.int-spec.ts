// Listing jobs with filters on the real PostgreSQL: each filter, their AND, the owner's scope (a user's own jobs,
// a team's), the created_at window's bounds, and paging with a cursor through a filtered list (ties on created_at
// included).
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  JOB_STATUSES,
  JOB_STRATEGIES,
  type Job,
  type JobStatus,
  type JobStrategy,
  type ListJobsRequest,
} from '@docflow/contracts';
import { createServiceDataSource, dropDatabase, ensureDatabase, runMigrations } from '@docflow/database';
import { jobsDataSourceOptions } from '../data-source.options';
import { JobDocumentEntity } from './job-document.entity';
import { JobEntity } from './job.entity';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';

const CREWS = ['summarize', 'translate', 'extract'];

interface Seeded {
  id: string;
  userId: string;
  teamId: string | null;
  status: JobStatus;
  crew: string;
  strategy: JobStrategy;
  createdAt: Date;
  docIds: string[];
}

describe('jobs: listing with filters (PostgreSQL)', () => {
  const server = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  server.pathname = `/docflow_job_list_${randomBytes(4).toString('hex')}`;
  const databaseUrl = server.toString();
  let dataSource: DataSource;
  let repository: JobsRepository;
  let service: JobsService;

  const user = randomUUID();
  const other = randomUUID();
  const team = randomUUID();
  /** A document in some jobs of each owner: inside a one-document input, a batch, or a combined input. */
  const shared = randomUUID();
  const seeded: Seeded[] = [];
  const T0 = Date.parse('2026-03-01T00:00:00Z');

  async function insert(job: Seeded, batchSize: number | null = null): Promise<void> {
    const inputs =
      job.strategy === 'individual'
        ? job.docIds.map((docId) => ({ inputId: docId, docIds: [docId] }))
        : job.strategy === 'object'
          ? [{ inputId: 'batch-0', docIds: job.docIds }]
          : [{ inputId: 'combined', docIds: job.docIds }];
    await repository.insert(
      Object.assign(new JobEntity(), {
        id: job.id,
        userId: job.userId,
        teamId: job.teamId,
        status: job.status,
        crew: job.crew,
        strategy: job.strategy,
        batchSize,
        params: {},
        model: { provider: 'offline', model: 'offline' },
        docIds: job.docIds,
        idempotencyKey: null,
        requestHash: null,
        engine: 'local',
        workflowName: null,
        apiKeyId: null,
        manifestKey: 'manifest.json',
        callbackSecret: 'secret',
        chunkCount: 1,
        inputsTotal: inputs.length,
        inputsOpen: 0,
        inputsCompleted: 0,
        progressSum: 0,
        usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
        error: null,
        createdAt: job.createdAt,
        updatedAt: job.createdAt,
        submittedAt: null,
        startedAt: null,
        finishedAt: null,
      }),
      inputs.map((input) =>
        Object.assign(new JobDocumentEntity(), {
          jobId: job.id,
          ...input,
          name: input.inputId,
          chunk: 0,
          status: 'completed',
          stage: null,
          progress: 100,
          outputDocId: null,
          error: null,
        }),
      ),
    );
  }

  /** The `i`-th job of an owner: status, crew, strategy and time vary with `i`; every 4th includes `shared`. */
  function job(owner: { userId: string; teamId: string | null }, i: number): Seeded {
    const docIds = [randomUUID(), randomUUID(), randomUUID()];
    if (i % 4 === 0) docIds.splice(1, 0, shared);
    return {
      id: randomUUID(),
      ...owner,
      status: JOB_STATUSES[i % JOB_STATUSES.length]!,
      crew: CREWS[i % CREWS.length]!,
      strategy: JOB_STRATEGIES[Math.floor(i / 2) % JOB_STRATEGIES.length]!,
      // Jobs 10 to 14 are created at the same millisecond: only the id orders them.
      createdAt: new Date(T0 + (i >= 10 && i <= 14 ? 10 : i) * 60_000),
      docIds,
    };
  }

  beforeAll(async () => {
    await ensureDatabase(databaseUrl);
    dataSource = createServiceDataSource(
      jobsDataSourceOptions({ DATABASE_URL: databaseUrl, DB_POOL_SIZE: 4 }),
    );
    await dataSource.initialize();
    await runMigrations(dataSource);
    repository = new JobsRepository(dataSource);
    // `list` reads the repository alone; the rest of the service (engine, storage, NATS) is not needed here.
    service = Object.assign(Object.create(JobsService.prototype) as JobsService, { jobs: repository });
    const owners = [
      { userId: user, teamId: null, count: 60 },
      // Another user's jobs, and the team's (some started by `user`): never in the user's own list.
      { userId: other, teamId: null, count: 20 },
      { userId: user, teamId: team, count: 25 },
      { userId: other, teamId: team, count: 15 },
    ];
    for (const { count, ...owner } of owners)
      for (let i = 0; i < count; i++) seeded.push(job(owner, i + (owner.userId === other ? 3 : 0)));
    for (const s of seeded) await insert(s);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await dropDatabase(databaseUrl);
  });

  /** What the list must hold, in its order: newest first, then by id. */
  function expected(owner: { teamId?: string }, keep: (job: Seeded) => boolean): string[] {
    return seeded
      .filter((j) => (owner.teamId ? j.teamId === owner.teamId : j.userId === user && j.teamId === null))
      .filter(keep)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .map((j) => j.id);
  }

  /** Every page of the list, `limit` at a time, following `nextCursor`. */
  async function allPages(request: Omit<ListJobsRequest, 'userId'>, limit: number): Promise<Job[][]> {
    const pages: Job[][] = [];
    let cursor: string | undefined;
    do {
      const page = await service.list({ userId: user, ...request, limit, cursor });
      pages.push(page.items);
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(200);
    } while (cursor);
    return pages;
  }

  const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();

  it.each<[string, Omit<ListJobsRequest, 'userId'>, (j: Seeded) => boolean]>([
    ['one status', { status: 'running' }, (j) => j.status === 'running'],
    ['one status, as a list', { status: ['failed'] }, (j) => j.status === 'failed'],
    [
      'several statuses (any of them)',
      { status: ['queued', 'submitted', 'running'] },
      (j) => ['queued', 'submitted', 'running'].includes(j.status),
    ],
    ['the crew', { crew: 'translate' }, (j) => j.crew === 'translate'],
    ['a crew no job has', { crew: 'review' }, () => false],
    ['the strategy', { strategy: 'object' }, (j) => j.strategy === 'object'],
    ['created at or after', { createdAfter: at(40) }, (j) => j.createdAt.getTime() >= Date.parse(at(40))],
    ['created before', { createdBefore: at(10) }, (j) => j.createdAt.getTime() < Date.parse(at(10))],
    [
      'a window, in another zone',
      { createdAfter: '2026-03-01T01:20:00+01:00', createdBefore: '2026-03-01T00:30:00Z' },
      (j) => j.createdAt.getTime() >= Date.parse(at(20)) && j.createdAt.getTime() < Date.parse(at(30)),
    ],
    ['a document among the inputs', { docId: shared.toUpperCase() }, (j) => j.docIds.includes(shared)],
    [
      'everything at once (AND)',
      {
        status: ['completed', 'queued', 'cancelled'],
        crew: 'summarize',
        docId: shared,
        createdAfter: at(0),
        createdBefore: at(59),
      },
      (j) =>
        ['completed', 'queued', 'cancelled'].includes(j.status) &&
        j.crew === 'summarize' &&
        j.docIds.includes(shared) &&
        j.createdAt.getTime() < Date.parse(at(59)),
    ],
  ])("lists the user's own jobs by %s, newest first", async (_what, filters, keep) => {
    const want = expected({}, keep);
    if (_what !== 'a crew no job has') expect(want.length).toBeGreaterThan(0);
    const page = await service.list({ userId: user, ...filters, limit: 100 });
    expect(page.items.map((j) => j.id)).toEqual(want);
    expect(page.nextCursor).toBeUndefined();
  });

  it('pages through a filtered list: every match once, in order, ties on created_at ordered by id', async () => {
    const filters = {
      status: ['completed', 'failed', 'running', 'queued'] as JobStatus[],
      createdBefore: at(50),
    };
    const keep = (j: Seeded) =>
      filters.status.includes(j.status) && j.createdAt.getTime() < Date.parse(at(50));
    const want = expected({}, keep);
    // Jobs 10-14 (one millisecond) include matches: the cursor must not skip or repeat them.
    expect(
      seeded.filter(
        (j) =>
          j.teamId === null && j.userId === user && keep(j) && j.createdAt.getTime() === Date.parse(at(10)),
      ).length,
    ).toBeGreaterThan(1);
    for (const limit of [1, 2, 3, 7]) {
      const pages = await allPages(filters, limit);
      expect(pages.flat().map((j) => j.id)).toEqual(want);
      expect(pages.length).toBe(Math.max(1, Math.ceil(want.length / limit)));
      expect(pages.every((p) => p.length <= limit)).toBe(true);
      expect(pages.flat().every((j) => keep(seeded.find((s) => s.id === j.id)!))).toBe(true);
    }
  });

  it('pages through a list narrowed by a document the same way', async () => {
    const want = expected({}, (j) => j.docIds.includes(shared) && j.strategy !== 'combined');
    expect(want.length).toBeGreaterThan(3);
    const byStrategy = async (strategy: JobStrategy) =>
      (await allPages({ docId: shared, strategy }, 2)).flat();
    const listed = [...(await byStrategy('individual')), ...(await byStrategy('object'))];
    expect(listed.map((j) => j.id).sort()).toEqual([...want].sort());
  });

  it("lists a team's jobs (whoever started them) with the same filters, never the user's own", async () => {
    const keep = (j: Seeded) =>
      j.docIds.includes(shared) && ['completed', 'running', 'failed'].includes(j.status);
    const want = expected({ teamId: team }, keep);
    expect(want.length).toBeGreaterThan(0);
    const pages = await Promise.all(
      [2, 100].map(async (limit) => {
        const out: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await service.list({
            userId: other,
            teamId: team,
            docId: shared,
            status: ['completed', 'running', 'failed'],
            limit,
            cursor,
          });
          out.push(...page.items.map((j) => j.id));
          cursor = page.nextCursor;
        } while (cursor);
        return out;
      }),
    );
    expect(pages).toEqual([want, want]);
    // The user's own list by the same document: only their own jobs.
    const own = await service.list({ userId: user, docId: shared, limit: 100 });
    expect(own.items.every((j) => j.userId === user && j.teamId === undefined)).toBe(true);
  });

  it('counts createdAfter in and createdBefore out: consecutive windows neither overlap nor leave gaps', async () => {
    const bounds = [0, 10, 11, 30, 60].map(at);
    const listed: string[] = [];
    const want: string[] = [];
    for (let w = 0; w + 1 < bounds.length; w++) {
      const [from, to] = [Date.parse(bounds[w]!), Date.parse(bounds[w + 1]!)];
      const page = await service.list({
        userId: user,
        createdAfter: bounds[w],
        createdBefore: bounds[w + 1],
        limit: 100,
      });
      listed.push(...page.items.map((j) => j.id));
      want.push(...expected({}, (j) => j.createdAt.getTime() >= from && j.createdAt.getTime() < to));
    }
    // The window [10, 11) holds the five jobs created at minute 10 exactly.
    expect(want).toHaveLength(60);
    expect(listed).toEqual(want);
    // An empty window is not an error.
    expect((await service.list({ userId: user, createdAfter: at(10), createdBefore: at(10) })).items).toEqual(
      [],
    );
  });

  it('refuses a bad filter naming it (the service checks what any NATS caller sends)', async () => {
    await expect(
      service.list({ userId: user, createdAfter: at(20), createdBefore: at(10) }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'createdAfter' }] });
    await expect(service.list({ userId: user, status: 'done' as JobStatus })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'status' }],
    });
  });

  it("shows an object job's batch size: the one recorded, 10 for a job from before it was", async () => {
    const recorded = { ...job({ userId: user, teamId: null }, 2), createdAt: new Date(T0 - 60_000) };
    const legacy = { ...job({ userId: user, teamId: null }, 2), createdAt: new Date(T0 - 120_000) };
    recorded.strategy = legacy.strategy = 'object';
    await insert(recorded, 25);
    await insert(legacy, null);
    const page = await service.list({ userId: user, createdBefore: at(0), strategy: 'object' });
    expect(page.items.map((j) => [j.id, j.batchSize])).toEqual([
      [recorded.id, 25],
      [legacy.id, 10],
    ]);
  });
});
