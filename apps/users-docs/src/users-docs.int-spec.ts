// users-docs on the real PostgreSQL, NATS and S3 server, driven over NATS the way the gateway does.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import { connect, headers, type NatsConnection } from 'nats';
import {
  IDENTITY_EVENTS_STREAM,
  IdentityDeletionConsumers,
  IdentityEventSubjects,
  QueueGroups,
  REQUEST_ID_HEADER,
  UsersDocsSubjects,
  type DocumentDetail,
  type DocumentPage,
  type DocumentSummary,
  type DocumentWithUpload,
  type TeamDeletedEvent,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import {
  LocalS3Server,
  createTestEnvironment,
  waitFor,
  waitForConsumerAck,
  type TestEnvironment,
} from '@docflow/local-platform';
import { ObjectStorage, storageFromConfig } from '@docflow/storage';
import { PinoNestLogger, createLogger } from '@docflow/observability';
import { RequestContextInterceptor, RpcErrorFilter } from '@docflow/messaging';
import { loadUsersDocsConfig, type UsersDocsConfig } from './config';
import { usersDocsDataSourceOptions } from './data-source.options';
import { UsersDocsModule } from './users-docs.module';

describe('users-docs over NATS', () => {
  let env: TestEnvironment;
  let s3: LocalS3Server;
  let app: INestMicroservice;
  let nc: NatsConnection;
  let config: UsersDocsConfig;
  let storage: ObjectStorage;
  const logLines: Record<string, unknown>[] = [];

  async function call<T>(
    subject: string,
    data: unknown,
    requestId?: string,
  ): Promise<{ response?: T; err?: { code: string; message: string; details?: unknown } }> {
    const h = headers();
    if (requestId) h.set(REQUEST_ID_HEADER, requestId);
    const msg = await nc.request(subject, JSON.stringify({ pattern: subject, data, id: randomUUID() }), {
      timeout: 5_000,
      headers: h,
    });
    return JSON.parse(new TextDecoder().decode(msg.data));
  }

  beforeAll(async () => {
    env = await createTestEnvironment('usersdocs');
    s3 = new LocalS3Server({ port: 0, directory: `${env.directory}/s3`, bucket: 'docflow' });
    const endpoint = await s3.start();
    config = loadUsersDocsConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      // No user-details here: quotas have their own int-spec.
      QUOTAS: 'off',
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      MAX_DOCUMENT_SIZE_BYTES: '1000',
      DELETION_RETRY_BASE_MS: '100',
      DELETION_RETRY_MAX_MS: '400',
    });
    storage = storageFromConfig(config);
    const migrations = createServiceDataSource(usersDocsDataSourceOptions(config));
    await runMigrations(migrations);
    await migrations.destroy();

    const destination = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    app = await NestFactory.createMicroservice(UsersDocsModule.forRoot(config), {
      transport: Transport.NATS,
      options: { servers: [env.natsUrl], queue: QueueGroups.usersDocs },
      logger: new PinoNestLogger(createLogger({ service: 'users-docs', destination })),
    });
    app.useGlobalFilters(new RpcErrorFilter());
    app.useGlobalInterceptors(new RequestContextInterceptor());
    await app.listen();
    nc = await connect({ servers: env.natsUrl });
    // The team deletions consumer binds (and creates the IDENTITY_EVENTS stream) once NATS answers.
    await waitFor(
      async () =>
        (await call<{ status: string }>(UsersDocsSubjects.healthCheck, {})).response?.status === 'ok',
      { description: 'users-docs to consume identity.team.deleted' },
    );
  });

  afterAll(async () => {
    storage?.destroy();
    await nc?.close();
    await app?.close();
    await s3?.stop();
    await env?.close();
  });

  it('has migrations that match the entities exactly (no schema drift)', async () => {
    const config = loadUsersDocsConfig({ DATABASE_URL: env.databaseUrl });
    const dataSource = await createServiceDataSource(usersDocsDataSourceOptions(config)).initialize();
    try {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      expect(await dataSource.showMigrations()).toBe(false);
    } finally {
      await dataSource.destroy();
    }
  });

  it('answers a request and carries errors as { code, message, details }', async () => {
    const created = await call<{ id: string }>(UsersDocsSubjects.userCreate, {
      name: 'N',
      email: `n-${randomUUID()}@example.com`,
    });
    expect(created.response?.id).toEqual(expect.any(String));

    const missing = await call(UsersDocsSubjects.userGet, { userId: randomUUID() });
    expect(missing.err).toEqual({ code: 'NOT_FOUND', message: 'user not found' });

    const oversize = await call(UsersDocsSubjects.documentCreate, {
      userId: created.response!.id,
      name: 'big',
      contentType: 'text/plain',
      size: 1001,
    });
    expect(oversize.err).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'size: must not exceed 1000 bytes',
      details: [{ field: 'size', message: 'must not exceed 1000 bytes' }],
    });
  });

  it('creates a user under the id identity gives; the same call again returns it; another id with the email is a CONFLICT', async () => {
    const id = randomUUID();
    const email = `given-${randomUUID()}@example.com`;
    const first = await call<{ id: string; email: string }>(UsersDocsSubjects.userCreate, {
      id,
      name: 'G',
      email,
    });
    expect(first.response).toMatchObject({ id, email });
    const again = await call<{ id: string }>(UsersDocsSubjects.userCreate, {
      id,
      name: 'G',
      email: email.toUpperCase(),
    });
    expect(again.response?.id).toBe(id);
    const otherId = await call(UsersDocsSubjects.userCreate, { id: randomUUID(), name: 'G', email });
    expect(otherId.err?.code).toBe('CONFLICT');
    const sameIdOtherEmail = await call(UsersDocsSubjects.userCreate, {
      id,
      name: 'G',
      email: `else-${randomUUID()}@example.com`,
    });
    expect(sameIdOtherEmail.err?.code).toBe('CONFLICT');
  });

  it('answers VALIDATION_FAILED when the database refuses a value (class 22), not INTERNAL', async () => {
    const out = await call(UsersDocsSubjects.documentCreate, {
      userId: 'not-a-uuid',
      name: 'a',
      contentType: 'text/plain',
      size: 1,
    });
    expect(out.err).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'A value in the request cannot be stored',
    });
  });

  it('hides internals of an unexpected failure behind INTERNAL, and logs no parameters', async () => {
    // A payload the gateway would never send: the handler fails inside, the caller learns nothing of it.
    const out = await call(UsersDocsSubjects.userCreate, { email: 'secret-param@example.com' });
    expect(out.err).toEqual({ code: 'INTERNAL', message: 'Internal error' });
    expect(JSON.stringify(logLines)).not.toContain('secret-param@example.com');
  });

  it('logs with the request id that came in the NATS headers', async () => {
    const user = await call<{ id: string }>(UsersDocsSubjects.userCreate, {
      name: 'R',
      email: `r-${randomUUID()}@example.com`,
    });
    const doc = await call<{ id: string; upload: { url: string } }>(UsersDocsSubjects.documentCreate, {
      userId: user.response!.id,
      name: 'r.txt',
      contentType: 'text/plain',
      size: 3,
    });
    const key = `users/${user.response!.id}/docs/${doc.response!.id}/r.txt`;
    await call(
      UsersDocsSubjects.storageEventsApply,
      { records: [{ eventName: 's3:ObjectCreated:Put', bucket: 'docflow', key, size: 3 }] },
      'trace-me-123',
    );
    expect(logLines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ requestId: 'trace-me-123', msg: 'storage event applied' }),
      ]),
    );
    expect(JSON.stringify(logLines)).not.toContain('X-Amz-Signature');
  });

  it('applies one of many concurrent copies of the same event, exactly once', async () => {
    const user = await call<{ id: string }>(UsersDocsSubjects.userCreate, {
      name: 'C',
      email: `c-${randomUUID()}@example.com`,
    });
    const doc = await call<{ id: string }>(UsersDocsSubjects.documentCreate, {
      userId: user.response!.id,
      name: 'c.txt',
      contentType: 'text/plain',
      size: 5,
    });
    const key = `users/${user.response!.id}/docs/${doc.response!.id}/c.txt`;
    const record = { eventName: 's3:ObjectCreated:Put', bucket: 'docflow', key, size: 5, eTag: 'e1' };
    const replies = await Promise.all(
      Array.from({ length: 10 }, () =>
        call<{ results: { outcome: string }[] }>(UsersDocsSubjects.storageEventsApply, { records: [record] }),
      ),
    );
    const outcomes = replies.map((r) => r.response!.results[0]!.outcome).sort();
    expect(outcomes).toEqual([...Array(9).fill('unchanged'), 'uploaded']);
  });

  it('reclaims the record of an unfinished signup only when it is older than asked and holds no document', async () => {
    const make = async () => {
      const email = `orphan-${randomUUID()}@example.com`;
      const made = await call<{ id: string }>(UsersDocsSubjects.userCreate, {
        id: randomUUID(),
        name: 'O',
        email,
      });
      return { email, id: made.response!.id };
    };
    const soon = new Date(Date.now() + 60_000).toISOString();
    const past = new Date(Date.now() - 60_000).toISOString();

    const young = await make();
    expect(
      (await call(UsersDocsSubjects.userReclaim, { email: young.email, createdBefore: past })).response,
    ).toEqual({
      reclaimed: false,
    });
    expect((await call(UsersDocsSubjects.userGet, { userId: young.id })).response).toMatchObject({
      id: young.id,
    });

    const used = await make();
    const doc = await call(UsersDocsSubjects.documentCreate, {
      userId: used.id,
      name: 'a.txt',
      contentType: 'text/plain',
      size: 1,
    });
    expect(doc.err).toBeUndefined();
    expect(
      (await call(UsersDocsSubjects.userReclaim, { email: used.email.toUpperCase(), createdBefore: soon }))
        .response,
    ).toEqual({ reclaimed: false });
    expect((await call(UsersDocsSubjects.userGet, { userId: used.id })).response).toMatchObject({
      id: used.id,
    });

    const orphan = await make();
    expect(
      (await call(UsersDocsSubjects.userReclaim, { email: orphan.email, createdBefore: soon })).response,
    ).toEqual({
      reclaimed: true,
    });
    expect((await call(UsersDocsSubjects.userGet, { userId: orphan.id })).err?.code).toBe('NOT_FOUND');
    // The address is free again.
    expect(
      (await call(UsersDocsSubjects.userCreate, { id: randomUUID(), name: 'N', email: orphan.email })).err,
    ).toBeUndefined();

    expect(
      (await call(UsersDocsSubjects.userReclaim, { email: orphan.email, createdBefore: 'soon' })).err,
    ).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'createdBefore', message: 'must be an ISO 8601 time' }],
    });
  });

  it('lists documents with a filter: kind, status, content type or type/*, upload window', async () => {
    const user = await call<{ id: string }>(UsersDocsSubjects.userCreate, {
      name: 'F',
      email: `f-${randomUUID()}@example.com`,
    });
    const userId = user.response!.id;
    const docs: Record<string, string> = {};
    const add = async (name: string, contentType: string, upload: boolean) => {
      const doc = await call<{ id: string }>(UsersDocsSubjects.documentCreate, {
        userId,
        name,
        contentType,
        size: 1,
      });
      docs[name] = doc.response!.id;
      if (upload) {
        const key = `users/${userId}/docs/${doc.response!.id}/${name}`;
        await call(UsersDocsSubjects.storageEventsApply, {
          records: [{ eventName: 's3:ObjectCreated:Put', bucket: 'docflow', key, size: 1 }],
        });
      }
    };
    await add('a.txt', 'text/plain', true);
    await add('b.md', 'text/markdown', true);
    await add('c.txt', 'text/plain', false);
    await add('d.bin', 'a_b/x', true);
    await add('e.bin', 'aXb/x', true);
    const list = async (filter: Record<string, unknown>) => {
      const page = await call<{ items: { name: string; uploadedAt?: string }[] }>(
        UsersDocsSubjects.documentList,
        { userId, limit: 50, filter },
      );
      if (page.err) return page.err;
      return page.response!.items.map((d) => d.name).sort();
    };

    expect(await list({ status: 'uploaded', contentType: 'text/*' })).toEqual(['a.txt', 'b.md']);
    expect(await list({ contentType: 'TEXT/PLAIN' })).toEqual(['a.txt', 'c.txt']);
    expect(await list({ contentType: 'a_b/*' })).toEqual(['d.bin']); // `_` is not a LIKE wildcard here
    expect(await list({ kind: 'output' })).toEqual([]);
    const all = await call<{ items: { name: string; uploadedAt?: string }[] }>(
      UsersDocsSubjects.documentList,
      {
        userId,
      },
    );
    const uploadedAt = (name: string) => all.response!.items.find((d) => d.name === name)!.uploadedAt!;
    expect(await list({ uploadedAfter: uploadedAt('a.txt'), uploadedUntil: uploadedAt('d.bin') })).toEqual([
      'b.md',
      'd.bin',
    ]);
    expect(await list({ contentType: 'text' })).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'filter.contentType' }],
    });
    expect(await list({ uploadedAfter: 'yesterday' })).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'filter.uploadedAfter' }],
    });
  });

  it('reports its database and storage in the health check', async () => {
    const out = await call<{ status: string; checks: Record<string, { status: string }> }>(
      UsersDocsSubjects.healthCheck,
      {},
    );
    expect(out.response).toEqual({
      service: 'users-docs',
      status: 'ok',
      checks: { database: { status: 'ok' }, storage: { status: 'ok' }, events: { status: 'ok' } },
    });
  });

  describe("a team's documents", () => {
    const newUser = async (name: string) =>
      (
        await call<{ id: string }>(UsersDocsSubjects.userCreate, {
          id: randomUUID(),
          name,
          email: `${name.toLowerCase()}-${randomUUID()}@example.com`,
        })
      ).response!.id;

    /** A document created through users-docs, its bytes PUT to the S3 server, its storage event applied. */
    async function uploaded(scope: { userId: string; teamId?: string }, name = 'plan.txt') {
      const body = 'team plan';
      const created = await call<DocumentWithUpload>(UsersDocsSubjects.documentCreate, {
        ...scope,
        name,
        contentType: 'text/plain',
        size: body.length,
      });
      expect(created.err).toBeUndefined();
      const doc = created.response!;
      const put = await fetch(doc.upload.url, { method: 'PUT', headers: doc.upload.headers, body });
      expect(put.status).toBe(200);
      const applied = await call<{ results: { outcome: string }[] }>(UsersDocsSubjects.storageEventsApply, {
        records: [
          {
            eventName: 's3:ObjectCreated:Put',
            bucket: 'docflow',
            key: new URL(doc.upload.url).pathname.replace(/^\/docflow\//, ''),
            size: body.length,
          },
        ],
      });
      expect(applied.response?.results[0]?.outcome).toBe('uploaded');
      return doc;
    }

    const teamDeleted = (teamId: string): TeamDeletedEvent => ({
      eventId: randomUUID(),
      teamId,
      deletedAt: new Date().toISOString(),
    });
    async function deleteTeam(teamId: string): Promise<void> {
      const { seq } = await nc
        .jetstream()
        .publish(IdentityEventSubjects.teamDeleted, JSON.stringify(teamDeleted(teamId)));
      await waitForConsumerAck(nc, IDENTITY_EVENTS_STREAM, IdentityDeletionConsumers.usersDocsTeams, seq);
    }

    const ids = (page: { response?: DocumentPage }) => page.response!.items.map((d) => d.id).sort();

    it("keeps a team's documents apart from the member's own, under the team's prefix, through storage events", async () => {
      const member = await newUser('Member');
      const teamId = randomUUID();
      const teamDoc = await uploaded({ userId: member, teamId }, 'team.txt');
      const own = await uploaded({ userId: member }, 'own.txt');
      expect(teamDoc).toMatchObject({ userId: member, teamId });
      expect(new URL(teamDoc.upload.url).pathname).toBe(
        `/docflow/teams/${teamId}/docs/${teamDoc.id}/team.txt`,
      );

      expect(ids(await call(UsersDocsSubjects.documentList, { userId: member }))).toEqual([own.id]);
      expect(ids(await call(UsersDocsSubjects.documentList, { userId: member, teamId }))).toEqual([
        teamDoc.id,
      ]);
      // Another member of the team sees it; the team of someone else does not.
      const other = await newUser('Other');
      const got = await call<DocumentDetail>(UsersDocsSubjects.documentGet, {
        userId: other,
        teamId,
        docId: teamDoc.id,
      });
      expect(got.response).toMatchObject({ id: teamDoc.id, teamId, status: 'uploaded' });
      expect(await (await fetch(got.response!.download!.url)).text()).toBe('team plan');
      for (const ref of [
        { userId: member, docId: teamDoc.id },
        { userId: member, teamId: randomUUID(), docId: teamDoc.id },
        { userId: member, teamId, docId: own.id },
      ]) {
        expect((await call(UsersDocsSubjects.documentGet, ref)).err?.code).toBe('NOT_FOUND');
        expect((await call(UsersDocsSubjects.documentDelete, ref)).err?.code).toBe('NOT_FOUND');
      }
      // A team job resolves the team's documents only.
      const resolved = await call<{ key: string }[]>(UsersDocsSubjects.documentResolve, {
        userId: member,
        teamId,
        docIds: [teamDoc.id],
      });
      expect(resolved.response).toEqual([
        expect.objectContaining({ key: `teams/${teamId}/docs/${teamDoc.id}/team.txt` }),
      ]);
      expect(
        (await call(UsersDocsSubjects.documentResolve, { userId: member, teamId, docIds: [own.id] })).err
          ?.code,
      ).toBe('NOT_FOUND');

      // Removing the object from storage marks the team's document deleted (the removal event).
      await storage.delete(`teams/${teamId}/docs/${teamDoc.id}/team.txt`);
      const removed = await call<{ results: { outcome: string }[] }>(UsersDocsSubjects.storageEventsApply, {
        records: [
          {
            eventName: 's3:ObjectRemoved:Delete',
            bucket: 'docflow',
            key: `teams/${teamId}/docs/${teamDoc.id}/team.txt`,
          },
        ],
      });
      expect(removed.response?.results[0]?.outcome).toBe('deleted');
    });

    it("keeps the team's documents and objects when their creator's account is deleted", async () => {
      const creator = await newUser('Creator');
      const teamId = randomUUID();
      const teamDoc = await uploaded({ userId: creator, teamId });
      const own = await uploaded({ userId: creator });
      expect((await call(UsersDocsSubjects.userDelete, { userId: creator })).err).toBeUndefined();

      const reader = await newUser('Reader');
      const page = await call<DocumentPage>(UsersDocsSubjects.documentList, { userId: reader, teamId });
      expect(page.response!.items).toEqual([
        expect.objectContaining({ id: teamDoc.id, userId: creator, teamId, status: 'uploaded' }),
      ]);
      expect(await storage.head(`teams/${teamId}/docs/${teamDoc.id}/plan.txt`)).toMatchObject({ size: 9 });
      // The creator's own document went with the account, object and all.
      expect(await storage.head(`users/${creator}/docs/${own.id}/plan.txt`)).toBeUndefined();
      expect((await call(UsersDocsSubjects.documentList, { userId: creator })).err?.code).toBe('NOT_FOUND');
    });

    it("registers a team job's outputs as the team's documents", async () => {
      const member = await newUser('Runner');
      const teamId = randomUUID();
      const jobId = randomUUID();
      const key = `teams/${teamId}/jobs/${jobId}/outputs/out.md`;
      await storage.put(key, '# out', 'text/markdown');
      const request = {
        userId: member,
        teamId,
        jobId,
        sourceDocIds: [],
        key,
        name: 'out.md',
        contentType: 'text/markdown',
        size: 5,
      };
      const out = await call<DocumentSummary>(UsersDocsSubjects.documentRegisterOutput, request);
      expect(out.response).toMatchObject({ teamId, userId: member, kind: 'output', status: 'uploaded' });
      expect(
        (await call<DocumentSummary>(UsersDocsSubjects.documentRegisterOutput, request)).response?.id,
      ).toBe(out.response!.id);
      expect(ids(await call(UsersDocsSubjects.documentList, { userId: member, teamId }))).toEqual([
        out.response!.id,
      ]);
      expect(
        (await call<DocumentPage>(UsersDocsSubjects.documentList, { userId: member })).response?.items,
      ).toEqual([]);
      const misplaced = await call(UsersDocsSubjects.documentRegisterOutput, {
        ...request,
        key: `users/${member}/jobs/${jobId}/outputs/out.md`,
      });
      expect(misplaced.err?.code).toBe('VALIDATION_FAILED');
    });

    it("erases a deleted team's documents and objects from identity.team.deleted, once, and stores nothing for it after", async () => {
      const member = await newUser('Erased');
      const teamId = randomUUID();
      const otherTeam = randomUUID();
      const a = await uploaded({ userId: member, teamId }, 'a.txt');
      await call(UsersDocsSubjects.documentCreate, {
        userId: member,
        teamId,
        name: 'pending.txt',
        contentType: 'text/plain',
        size: 3,
      });
      const kept = await uploaded({ userId: member, teamId: otherTeam }, 'kept.txt');
      const own = await uploaded({ userId: member }, 'own.txt');
      await storage.put(`teams/${teamId}/jobs/${randomUUID()}/outputs/x.md`, 'x', 'text/markdown');

      await deleteTeam(teamId.toUpperCase());
      await deleteTeam(teamId); // identity published it twice: nothing more happens

      expect(
        (await call<DocumentPage>(UsersDocsSubjects.documentList, { userId: member, teamId })).response
          ?.items,
      ).toEqual([]);
      expect(
        (await call(UsersDocsSubjects.documentGet, { userId: member, teamId, docId: a.id })).err?.code,
      ).toBe('NOT_FOUND');
      expect(await storage.head(`teams/${teamId}/docs/${a.id}/a.txt`)).toBeUndefined();
      expect(await storage.deletePrefix(`teams/${teamId}/`)).toBe(0);
      expect(ids(await call(UsersDocsSubjects.documentList, { userId: member, teamId: otherTeam }))).toEqual([
        kept.id,
      ]);
      expect(ids(await call(UsersDocsSubjects.documentList, { userId: member }))).toEqual([own.id]);
      const erased = logLines.filter((l) => l.msg === 'team erased' && l.teamId === teamId);
      expect(erased).toEqual([expect.objectContaining({ documentIds: expect.any(Array), objects: 2 })]);
      expect((erased[0]!.documentIds as string[]).length).toBe(2);

      // A request the gateway authorized just before the deletion: nothing is stored for the team.
      const late = await call(UsersDocsSubjects.documentCreate, {
        userId: member,
        teamId,
        name: 'late.txt',
        contentType: 'text/plain',
        size: 1,
      });
      expect(late.err).toEqual({ code: 'NOT_FOUND', message: 'team not found' });
      const jobId = randomUUID();
      const lateKey = `teams/${teamId}/jobs/${jobId}/outputs/late.md`;
      await storage.put(lateKey, 'late', 'text/markdown');
      const lateOutput = await call(UsersDocsSubjects.documentRegisterOutput, {
        userId: member,
        teamId,
        jobId,
        sourceDocIds: [],
        key: lateKey,
        name: 'late.md',
        contentType: 'text/markdown',
        size: 4,
      });
      expect(lateOutput.err?.code).toBe('NOT_FOUND');
      expect(await storage.head(lateKey)).toBeUndefined();
    });

    it('leaves no document of a team whose deletion raced with creations', async () => {
      const member = await newUser('Racer');
      const teamId = randomUUID();
      const creating = Array.from({ length: 20 }, (_, i) =>
        call<DocumentWithUpload>(UsersDocsSubjects.documentCreate, {
          userId: member,
          teamId,
          name: `r${i}.txt`,
          contentType: 'text/plain',
          size: 1,
        }),
      );
      await deleteTeam(teamId);
      const outcomes = await Promise.all(creating);
      // Each one either committed before the erasure (and went with it) or was refused after it.
      for (const o of outcomes) if (o.err) expect(o.err.code).toBe('NOT_FOUND');
      expect(
        (await call<DocumentPage>(UsersDocsSubjects.documentList, { userId: member, teamId })).response
          ?.items,
      ).toEqual([]);
    });
  });
});
