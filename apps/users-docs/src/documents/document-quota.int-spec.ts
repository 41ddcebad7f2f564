// The upload quota (maxDocuments, maxStorageBytes) on the real PostgreSQL: what counts, and two creates at the
// limit at the same moment (exactly one gets in: the per-user advisory lock around the count and the insert).
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DomainError, ErrorCode, PLAN_QUOTAS, type Plan, type Quota } from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import { createTestEnvironment, type TestEnvironment } from '@docflow/local-platform';
import { QuotaSource, ServiceClient } from '@docflow/messaging';
import { Clock } from '../common/clock';
import { loadUsersDocsConfig, type UsersDocsConfig } from '../config';
import { usersDocsDataSourceOptions } from '../data-source.options';
import { FakeStorage, asStorage } from '../testing/fakes';
import { UserEntity } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { DocumentEntity } from './document.entity';
import { DocumentQuota } from './document-quota';
import { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';

/** user-details as the quota source sees it: a quota per user, NOT_FOUND for the others, or down. */
class FakeUserDetails extends ServiceClient {
  readonly quotas = new Map<string, { plan: Plan; quota: Quota }>();
  down = false;
  async send<T>(_subject: string, payload: unknown): Promise<T> {
    if (this.down)
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'The user-details service is unavailable');
    const found = this.quotas.get((payload as { userId: string }).userId);
    if (!found) throw DomainError.notFound('user details');
    return found as T;
  }
  isConnected(): boolean {
    return true;
  }
}

describe('the upload quota on PostgreSQL', () => {
  let env: TestEnvironment;
  let config: UsersDocsConfig;
  let dataSource: DataSource;
  let repository: DocumentsRepository;
  let userDetails: FakeUserDetails;
  let quota: DocumentQuota;
  let sut: DocumentsService;

  beforeAll(async () => {
    env = await createTestEnvironment('docquota');
    config = loadUsersDocsConfig({ DATABASE_URL: env.databaseUrl, QUOTA_CACHE_MS: '0' });
    const migrations = createServiceDataSource(usersDocsDataSourceOptions(config));
    await runMigrations(migrations);
    await migrations.destroy();
    dataSource = await createServiceDataSource(usersDocsDataSourceOptions(config)).initialize();
    repository = new DocumentsRepository(dataSource);
    userDetails = new FakeUserDetails();
    quota = new DocumentQuota(dataSource, new QuotaSource(userDetails, { cacheMs: 0 }), config);
    sut = new DocumentsService(
      repository,
      new UsersRepository(dataSource),
      asStorage(new FakeStorage()),
      config,
      new Clock(),
      quota,
    );
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await env?.close();
  });

  beforeEach(() => {
    userDetails.down = false;
  });

  async function newUser(limits: Partial<Quota> = {}, plan: Plan = 'free'): Promise<string> {
    const id = randomUUID();
    const now = new Date();
    await dataSource
      .getRepository(UserEntity)
      .insert({ id, name: 'U', email: `${id}@example.com`, createdAt: now, updatedAt: now });
    userDetails.quotas.set(id, { plan, quota: { ...PLAN_QUOTAS[plan], ...limits } });
    return id;
  }

  const create = (userId: string, size = 10, teamId?: string) =>
    sut.create({ userId, ...(teamId ? { teamId } : {}), name: 'a.txt', contentType: 'text/plain', size });

  async function uploads(userId: string): Promise<number> {
    return dataSource.getRepository(DocumentEntity).countBy({ userId, kind: 'upload' });
  }

  it('lets two creates at the limit race: exactly one gets in, the other is refused naming the limit', async () => {
    const userId = await newUser({ maxDocuments: 3 });
    await create(userId);
    await create(userId);
    // Both pass the check without the lock (2 < 3) before either stores its document...
    const admits = [await quota.admission(userId, 10), await quota.admission(userId, 10)];
    const document = () =>
      Object.assign(new DocumentEntity(), {
        id: randomUUID(),
        userId,
        teamId: null,
        ownerUserId: userId,
        name: 'race.txt',
        kind: 'upload' as const,
        contentType: 'text/plain',
        size: 10,
        status: 'pending_upload' as const,
        statusReason: null,
        objectKey: `users/${userId}/docs/${randomUUID()}/race.txt`,
        etag: null,
        createdAt: new Date(),
        updatedAt: new Date(),
        uploadedAt: null,
        deletedAt: null,
        jobId: null,
        sourceDocIds: null,
      });
    // ...and the check under the lock, in the inserting transactions, lets one through.
    // Both transactions are open before either checks (without the lock, both would count 2 and get in).
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothOpen = new Promise<void>((resolve) => (release = resolve));
    const results = await Promise.allSettled(
      admits.map((admit) =>
        repository.insert(document(), async (tx) => {
          if (++arrived === 2) release();
          await bothOpen;
          await admit!(tx);
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refusal = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refusal.reason).toMatchObject({
      code: ErrorCode.QUOTA_EXCEEDED,
      message:
        'maxDocuments: 3 documents; the quota of plan free allows 3: delete documents or ask for a larger quota',
      details: { field: 'quota.maxDocuments', limit: 3, used: 3, requested: 1, plan: 'free' },
    });
    expect(await uploads(userId)).toBe(3);
  });

  it('lets concurrent creates through the service past the limit never: as many as fit, the rest refused', async () => {
    const userId = await newUser({ maxDocuments: 4 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => create(userId)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    for (const r of results.filter((x) => x.status === 'rejected'))
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.QUOTA_EXCEEDED });
    expect(await uploads(userId)).toBe(4);
  });

  it("counts the team documents the user created (a team is no way around the quota), never another's", async () => {
    const userId = await newUser({ maxDocuments: 2 });
    const other = await newUser({ maxDocuments: 1 });
    const teamId = randomUUID();
    await create(userId, 10, teamId);
    await create(other, 10, teamId);
    await create(userId);
    await expect(create(userId, 10, teamId)).rejects.toMatchObject({
      code: ErrorCode.QUOTA_EXCEEDED,
      details: { field: 'quota.maxDocuments', used: 2 },
    });
  });

  it('leaves out deleted and rejected documents and job outputs; counts pending ones by their declared size', async () => {
    const userId = await newUser({ maxDocuments: 2, maxStorageBytes: 1_000 });
    const a = await create(userId, 400);
    const b = await create(userId, 400);
    await expect(create(userId, 1)).rejects.toMatchObject({ details: { field: 'quota.maxDocuments' } });
    await repository.transition(a.id, ['pending_upload'], { status: 'deleted' });
    await repository.transition(b.id, ['pending_upload'], { status: 'rejected' });
    const jobId = randomUUID();
    await sut.registerOutput({
      userId,
      jobId,
      key: `users/${userId}/jobs/${jobId}/outputs/out.md`,
      name: 'out.md',
      contentType: 'text/markdown',
      size: 10_000,
      sourceDocIds: [],
    });
    await create(userId, 600);
    // 600 of 1,000 bytes taken: 401 more do not fit.
    await expect(create(userId, 401)).rejects.toMatchObject({
      code: ErrorCode.QUOTA_EXCEEDED,
      message:
        'maxStorageBytes: 600 bytes used and this document has 401; the quota of plan free allows 1,000 bytes: ' +
        'delete documents or ask for a larger quota',
      details: { field: 'quota.maxStorageBytes', limit: 1_000, used: 600, requested: 401 },
    });
    await create(userId, 400);
  });

  it('applies the free quota to a user user-details does not know yet', async () => {
    const userId = await newUser();
    userDetails.quotas.delete(userId);
    await create(userId, 100);
    // 100 bytes taken: exactly the rest of 1 GiB fits, one byte more does not (larger than one upload may be, so
    // asked of the quota directly).
    await quota.admission(userId, 1024 ** 3 - 100);
    await expect(quota.admission(userId, 1024 ** 3 - 99)).rejects.toMatchObject({
      code: ErrorCode.QUOTA_EXCEEDED,
      details: { field: 'quota.maxStorageBytes', plan: 'free', limit: 1024 ** 3 },
    });
  });

  it('answers 503 and stores nothing when user-details does not answer', async () => {
    const userId = await newUser();
    userDetails.down = true;
    await expect(create(userId)).rejects.toMatchObject({ code: ErrorCode.SERVICE_UNAVAILABLE });
    expect(await uploads(userId)).toBe(0);
  });
});
