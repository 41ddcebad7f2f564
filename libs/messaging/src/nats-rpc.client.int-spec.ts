import { connect, type NatsConnection } from 'nats';
import { DomainError, ErrorCode, REQUEST_ID_HEADER } from '@docflow/contracts';
import { createTestEnvironment, freePort, waitFor, type TestEnvironment } from '@docflow/local-platform';
import { runWithRequestContext } from '@docflow/observability';
import { NatsRpcClient } from './nats-rpc.client';

describe(NatsRpcClient.name, () => {
  let env: TestEnvironment;
  let responder: NatsConnection;
  let sut: NatsRpcClient;

  beforeAll(async () => {
    env = await createTestEnvironment('rpc');
    responder = await connect({ servers: env.natsUrl });
    // A stand-in service speaking NestJS's packet format.
    responder.subscribe('svc.echo.get', {
      callback: (_err, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data));
        const requestId = msg.headers?.get(REQUEST_ID_HEADER) ?? null;
        msg.respond(
          JSON.stringify({ id: packet.id, response: { echo: packet.data, requestId }, isDisposed: true }),
        );
      },
    });
    responder.subscribe('svc.thing.fail', {
      callback: (_err, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data));
        msg.respond(
          JSON.stringify({
            id: packet.id,
            err: { code: 'NOT_FOUND', message: 'thing not found', details: { a: 1 } },
            isDisposed: true,
          }),
        );
      },
    });
    responder.subscribe('svc.thing.garbage', {
      callback: (_err, msg) => msg.respond(JSON.stringify({ err: 'boom at /srv/app.js:12' })),
    });
    responder.subscribe('svc.thing.slow', { callback: () => undefined });
    await responder.flush();
    sut = new NatsRpcClient({ servers: env.natsUrl, name: 'test', defaultTimeoutMs: 300 });
    sut.start();
    await waitFor(() => sut.isConnected(), { description: 'the client to connect' });
  });

  afterAll(async () => {
    await sut?.close();
    await responder?.close();
    await env?.close();
  });

  it('returns the response and sends the request id of the current context', async () => {
    const out = await runWithRequestContext({ requestId: 'rid-7' }, () => sut.send('svc.echo.get', { x: 1 }));
    expect(out).toEqual({ echo: { x: 1 }, requestId: 'rid-7' });
  });

  it('turns an RPC error into the DomainError with the same code, message and details', async () => {
    await expect(sut.send('svc.thing.fail', {})).rejects.toEqual(
      new DomainError(ErrorCode.NOT_FOUND, 'thing not found', { a: 1 }),
    );
  });

  it('hides a malformed error behind INTERNAL', async () => {
    const error = await sut.send('svc.thing.garbage', {}).catch((e: DomainError) => e);
    expect(error).toMatchObject({ code: ErrorCode.INTERNAL, message: 'Internal error' });
  });

  it('answers SERVICE_UNAVAILABLE at once when no service is subscribed', async () => {
    const started = performance.now();
    const error = await sut
      .send('users-docs.nobody.home', {}, { timeoutMs: 5_000 })
      .catch((e: DomainError) => e);
    expect(error).toMatchObject({
      code: ErrorCode.SERVICE_UNAVAILABLE,
      message: 'The users-docs service is unavailable; try again shortly',
    });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('answers SERVICE_UNAVAILABLE when the service does not answer in time', async () => {
    const error = await sut.send('svc.thing.slow', {}).catch((e: DomainError) => e);
    expect(error).toMatchObject({
      code: ErrorCode.SERVICE_UNAVAILABLE,
      message: 'The svc service did not answer within 300 ms',
    });
  });

  it('answers SERVICE_UNAVAILABLE at once before it has ever connected', async () => {
    const offline = new NatsRpcClient({
      servers: `nats://127.0.0.1:${await freePort()}`,
      name: 'offline',
      defaultTimeoutMs: 5_000,
    });
    offline.start();
    try {
      const started = performance.now();
      const error = await offline.send('svc.echo.get', {}).catch((e: DomainError) => e);
      expect(error).toMatchObject({ code: ErrorCode.SERVICE_UNAVAILABLE });
      expect(performance.now() - started).toBeLessThan(100);
      expect(offline.isConnected()).toBe(false);
    } finally {
      await offline.close();
    }
  });
});
