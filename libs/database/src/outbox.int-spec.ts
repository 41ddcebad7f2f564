// The outbox's retention on the real PostgreSQL: published rows older than the retention go, in batches; pending
// rows and recent history stay.
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dropDatabase, ensureDatabase } from './data-source';
import { OutboxEventEntity, TransactionalOutbox } from './outbox';

const SERVER = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('TransactionalOutbox retention', () => {
  let url: string;
  let dataSource: DataSource;
  let now = new Date('2026-12-03T12:00:00Z');

  beforeAll(async () => {
    const database = new URL(SERVER);
    database.pathname = `/docflow_outbox_${randomBytes(4).toString('hex')}`;
    url = database.toString();
    await ensureDatabase(url);
    const setup = new DataSource({ type: 'postgres', url });
    await setup.initialize();
    await setup.query('CREATE SCHEMA svc');
    await setup.destroy();
    dataSource = new DataSource({
      type: 'postgres',
      url,
      schema: 'svc',
      entities: [OutboxEventEntity],
      synchronize: true,
    });
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    if (url) await dropDatabase(url);
  });

  it('deletes published rows older than the retention, never pending ones', async () => {
    const outbox = new TransactionalOutbox(dataSource, {
      now: () => now,
      connection: () => undefined,
      ensureStream: async () => undefined,
      retainPublishedMs: 24 * 3600_000,
    });
    const day = 24 * 3600_000;
    const row = (publishedAgoMs: number | null, createdAgoMs = 3 * day) => ({
      id: randomUUID(),
      subject: 'x.y',
      payload: {},
      createdAt: new Date(now.getTime() - createdAgoMs),
      publishedAt: publishedAgoMs === null ? null : new Date(now.getTime() - publishedAgoMs),
      attempts: 1,
      lastError: null,
    });
    const old = Array.from({ length: 5_100 }, () => row(2 * day)); // more than one delete batch
    const recent = [row(3600_000), row(day - 60_000)];
    const pending = [row(null), row(null, 30 * day)];
    const repo = dataSource.getRepository(OutboxEventEntity);
    for (let i = 0; i < old.length; i += 1_000) await repo.insert(old.slice(i, i + 1_000));
    await repo.insert([...recent, ...pending]);

    expect(await outbox.prune()).toBe(5_100);
    const left = (await repo.find()).map((r) => r.id).sort();
    expect(left).toEqual([...recent, ...pending].map((r) => r.id).sort());
    expect(await outbox.prune()).toBe(0);

    // A day later the recent rows are old enough too; pending rows stay whatever their age.
    now = new Date(now.getTime() + day);
    expect(await outbox.prune()).toBe(2);
    expect((await repo.find()).map((r) => r.id).sort()).toEqual(pending.map((r) => r.id).sort());
  });
});
