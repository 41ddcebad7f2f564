// users-docs on the real PostgreSQL, NATS and S3 server, driven over NATS the way the gateway does.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import { connect, headers, type NatsConnection } from 'nats';
import { QueueGroups, REQUEST_ID_HEADER, UsersDocsSubjects } from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import { LocalS3Server, createTestEnvironment, type TestEnvironment } from '@docflow/local-platform';
import { PinoNestLogger, createLogger } from '@docflow/observability';
import { RequestContextInterceptor, RpcErrorFilter } from '@docflow/messaging';
import { loadUsersDocsConfig } from './config';
import { usersDocsDataSourceOptions } from './data-source.options';
import { UsersDocsModule } from './users-docs.module';

describe('users-docs over NATS', () => {
  let env: TestEnvironment;
  let s3: LocalS3Server;
  let app: INestMicroservice;
  let nc: NatsConnection;
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
    const config = loadUsersDocsConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      MAX_DOCUMENT_SIZE_BYTES: '1000',
    });
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
  });

  afterAll(async () => {
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
      checks: { database: { status: 'ok' }, storage: { status: 'ok' } },
    });
  });
});
