import { Subject } from 'rxjs';
import type { HealthReport } from '@docflow/contracts';
import { followConnection, startHealthServer, type HealthServer } from './health-server';

describe(startHealthServer.name, () => {
  let sut: HealthServer | undefined;
  let report: HealthReport;
  let connected: boolean;
  let check: () => Promise<HealthReport>;

  beforeEach(async () => {
    report = { service: 'users-docs', status: 'ok', checks: { database: { status: 'ok' } } };
    connected = true;
    check = async () => report;
    sut = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      check: () => check(),
      natsConnected: () => connected,
      timeoutMs: 200,
    });
  });
  afterEach(async () => {
    await sut?.close();
  });

  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${sut!.port}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('answers live while the process runs, whatever the checks say', async () => {
    report = { service: 'users-docs', status: 'degraded', checks: { database: { status: 'fail' } } };
    connected = false;
    expect(await get('/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('is ready when NATS is connected and every check passes', async () => {
    expect(await get('/health/ready')).toEqual({
      status: 200,
      body: { status: 'ok', checks: { nats: { status: 'ok' }, database: { status: 'ok' } } },
    });
  });

  it('is not ready while NATS is disconnected', async () => {
    connected = false;
    const { status, body } = await get('/health/ready');
    expect(status).toBe(503);
    expect(body.checks).toMatchObject({ nats: { status: 'fail', detail: 'not connected' } });
  });

  it('is not ready when a check fails, names it', async () => {
    report = {
      service: 'users-docs',
      status: 'degraded',
      checks: { database: { status: 'ok' }, storage: { status: 'fail', detail: 'no bucket' } },
    };
    const { status, body } = await get('/health/ready');
    expect(status).toBe(503);
    expect(body.checks).toMatchObject({ storage: { status: 'fail', detail: 'no bucket' } });
  });

  it('is not ready when the checks throw or hang', async () => {
    check = () => Promise.reject(new Error('boom'));
    expect((await get('/health/ready')).status).toBe(503);
    check = () => new Promise<never>(() => undefined);
    const { status, body } = await get('/health/ready');
    expect(status).toBe(503);
    expect(body.checks).toMatchObject({
      service: { status: 'fail', detail: 'checks timed out after 200 ms' },
    });
  });

  it('answers 404 elsewhere', async () => {
    expect((await get('/metrics')).status).toBe(404);
  });
});

describe(followConnection.name, () => {
  it('follows the status stream of a Nest microservice', () => {
    const status = new Subject<string>();
    const sut = followConnection(status);
    expect(sut()).toBe(false);
    status.next('connected');
    expect(sut()).toBe(true);
    status.next('reconnecting');
    expect(sut()).toBe(false);
    status.next('connected');
    expect(sut()).toBe(true);
  });
});
