import { connect, type NatsConnection } from 'nats';
import { createTestEnvironment, type TestEnvironment } from '@docflow/local-platform';
import { ensureStream } from './streams';

describe(ensureStream.name, () => {
  let env: TestEnvironment;
  let nc: NatsConnection;

  beforeAll(async () => {
    env = await createTestEnvironment('streams');
    nc = await connect({ servers: env.natsUrl });
  });

  afterAll(async () => {
    await nc?.close();
    await env?.close();
  });

  it('creates a missing stream, and adds the subjects a newer definition has while keeping its messages', async () => {
    await ensureStream(nc, { name: 'EVENTS_T', subjects: ['svc.thing.created'] });
    await nc.jetstream().publish('svc.thing.created', new TextEncoder().encode('one'));

    await ensureStream(nc, { name: 'EVENTS_T', subjects: ['svc.thing.created', 'svc.thing.deleted'] });
    await ensureStream(nc, { name: 'EVENTS_T', subjects: ['svc.thing.created', 'svc.thing.deleted'] });
    await nc.jetstream().publish('svc.thing.deleted', new TextEncoder().encode('two'));

    const info = await (await nc.jetstreamManager()).streams.info('EVENTS_T');
    expect(info.config.subjects).toEqual(['svc.thing.created', 'svc.thing.deleted']);
    expect(info.state.messages).toBe(2);
  });

  it('leaves a stream alone when it already has every subject (an older definition does not remove any)', async () => {
    await ensureStream(nc, { name: 'EVENTS_U', subjects: ['a.b.c', 'a.b.d'] });
    await ensureStream(nc, { name: 'EVENTS_U', subjects: ['a.b.c'] });
    const info = await (await nc.jetstreamManager()).streams.info('EVENTS_U');
    expect(info.config.subjects).toEqual(['a.b.c', 'a.b.d']);
  });
});
