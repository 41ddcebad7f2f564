// /users/{user_id}/details through the gateway (in this process, with a test authenticator) to the user-details
// service (its built entry point, as its own process) on the real PostgreSQL and a nats-server of the test's own.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { IdentityEventSubjects, UserDetailsSubjects, type UserRegisteredEvent } from '@docflow/contracts';
import {
  createTestEnvironment,
  runToCompletion,
  spawnService,
  stopService,
  waitFor,
  type ServiceProcess,
  type TestEnvironment,
} from '@docflow/local-platform';
import { NatsRpcClient } from '@docflow/messaging';
import { createLogger } from '@docflow/observability';
import { loadGatewayConfig } from '../config';
import { createGatewayApps, type GatewayApps } from '../gateway.app';
import { HeaderAuthenticator, TEST_ADMIN_HEADER, TEST_USER_HEADER } from '../testing/test-authenticator';

const ROOT = resolve(__dirname, '../../../..');
const SERVICE = (entry: string) => resolve(ROOT, 'apps/user-details/dist', entry);

interface Answer {
  [field: string]: unknown;
  error: { code: string; message: string; details?: { field: string; message: string }[] };
}

describe('user details through the gateway', () => {
  let env: TestEnvironment;
  let service: ServiceProcess;
  let services: NatsRpcClient;
  let apps: GatewayApps;
  let api: string;
  let nc: NatsConnection;
  const output: string[] = [];
  const alice = randomUUID();
  const bob = randomUUID();

  async function http(
    method: string,
    path: string,
    { user, admin, body }: { user?: string; admin?: boolean; body?: unknown } = {},
  ): Promise<{ status: number; body: Answer }> {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: {
        ...(user ? { [TEST_USER_HEADER]: user } : {}),
        ...(admin ? { [TEST_ADMIN_HEADER]: '1' } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Answer };
  }

  beforeAll(async () => {
    if (!existsSync(SERVICE('main.js')))
      throw new Error('build first: npm run build:quiet (apps/user-details/dist)');
    env = await createTestEnvironment('detailsroutes');
    const serviceEnv = { DATABASE_URL: env.databaseUrl, NATS_URL: env.natsUrl, LOG_LEVEL: 'warn' };
    await runToCompletion({ name: 'user-details migrate', script: SERVICE('migrate.js'), env: serviceEnv });
    service = spawnService({
      name: 'user-details',
      script: SERVICE('main.js'),
      env: serviceEnv,
      output: (_n, line) => output.push(line),
    });
    services = new NatsRpcClient({ servers: env.natsUrl, name: 'gateway', defaultTimeoutMs: 5_000 });
    services.start();
    apps = await createGatewayApps(
      loadGatewayConfig({ STORAGE_WEBHOOK_TOKEN: 'a-webhook-token-for-tests' }),
      services,
      createLogger({ service: 'gateway', level: 'silent' }),
      { authenticator: new HeaderAuthenticator() },
    );
    await apps.publicApp.listen(0, '127.0.0.1');
    api = `${await apps.publicApp.getUrl()}/api/v1`.replace('[::1]', '127.0.0.1');
    nc = await connect({ servers: env.natsUrl });

    // Both users sign up (identity's event); the service sets them up.
    await waitFor(
      async () =>
        (await services.send<{ status: string }>(UserDetailsSubjects.healthCheck, {})).status === 'ok',
      {
        timeoutMs: 20_000,
        description: `user-details to consume events\n${output.join('\n')}`,
      },
    );
    for (const [userId, name] of [
      [alice, 'Alice'],
      [bob, 'Bob'],
    ] as const) {
      const event: UserRegisteredEvent = {
        eventId: randomUUID(),
        userId,
        email: `${name.toLowerCase()}@gmail.com`,
        name,
        registeredAt: new Date().toISOString(),
      };
      await nc.jetstream().publish(IdentityEventSubjects.userRegistered, JSON.stringify(event));
    }
    await waitFor(async () => (await http('GET', `/users/${bob}/details`, { user: bob })).status === 200, {
      description: 'the setup of both users',
    });
  });

  afterAll(async () => {
    await apps?.close();
    await services?.close();
    await nc?.close();
    if (service) await stopService(service);
    await env?.close();
  });

  it('shows a user their own details', async () => {
    const out = await http('GET', `/users/${alice}/details`, { user: alice });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({
      userId: alice,
      displayName: 'Alice',
      plan: 'free',
      subscriptionStatus: 'none',
    });
  });

  it("answers 404 for another user's details, reading or writing, and changes nothing", async () => {
    const read = await http('GET', `/users/${alice}/details`, { user: bob });
    const write = await http('PATCH', `/users/${alice}/details`, {
      user: bob,
      body: { displayName: 'pwned' },
    });
    const unknown = await http('GET', `/users/${randomUUID()}/details`, { user: bob });
    expect([read.status, write.status, unknown.status]).toEqual([404, 404, 404]);
    // The same answer as for an id that does not exist: nothing to tell them apart.
    expect(read.body.error.message).toBe(write.body.error.message);
    expect((await http('GET', `/users/${alice}/details`, { user: alice })).body.displayName).toBe('Alice');
    // A platform admin may read them.
    expect((await http('GET', `/users/${alice}/details`, { user: bob, admin: true })).status).toBe(200);
  });

  it('answers 401 to an anonymous caller', async () => {
    expect((await http('GET', `/users/${alice}/details`)).status).toBe(401);
    expect((await http('PATCH', `/users/${alice}/details`, { body: { plan: 'team' } })).status).toBe(401);
  });

  it('lets a user change their profile, and says plan and subscription are not theirs to set', async () => {
    const ok = await http('PATCH', `/users/${alice}/details`, {
      user: alice,
      body: { displayName: 'Alice L.', locale: 'fr-CA', timezone: 'Europe/Paris', bio: null },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      displayName: 'Alice L.',
      locale: 'fr-CA',
      timezone: 'Europe/Paris',
      plan: 'free',
    });

    const refused = await http('PATCH', `/users/${alice}/details`, {
      user: alice,
      body: { plan: 'team', subscriptionStatus: 'active', quota: { maxDocuments: 1 } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([
      {
        field: 'plan',
        message: 'is set by platform administrators (PATCH …/details/subscription), not by this route',
      },
      {
        field: 'subscriptionStatus',
        message: 'is set by platform administrators (PATCH …/details/subscription), not by this route',
      },
      {
        field: 'quota',
        message: 'is set by platform administrators (PATCH …/details/subscription), not by this route',
      },
    ]);
    const bad = await http('PATCH', `/users/${alice}/details`, {
      user: alice,
      body: {
        locale: 'klingon!',
        timezone: 'Mars/Base',
        avatarUrl: 'http://x.example.com/a.png',
        userId: bob,
      },
    });
    expect(bad.body.error.details!.map((d) => d.field).sort()).toEqual([
      'avatarUrl',
      'locale',
      'timezone',
      'userId',
    ]);
    expect((await http('GET', `/users/${alice}/details`, { user: alice })).body).toMatchObject({
      displayName: 'Alice L.',
      plan: 'free',
    });
  });

  it("lets a platform admin set a user's plan, subscription status and quota, and no one else", async () => {
    const path = `/users/${bob}/details/subscription`;
    const body = { plan: 'pro', subscriptionStatus: 'active', quota: { maxJobsPerDay: 200 } };
    // Not an admin: 403 whoever's id it is (the answer says nothing about the id); anonymous: 401.
    expect((await http('PATCH', path, { user: bob, body })).status).toBe(403);
    expect((await http('PATCH', path, { user: alice, body })).status).toBe(403);
    expect((await http('PATCH', path, { body })).status).toBe(401);
    expect((await http('GET', `/users/${bob}/details`, { user: bob })).body).toMatchObject({ plan: 'free' });

    const set = await http('PATCH', path, { user: alice, admin: true, body });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      userId: bob,
      plan: 'pro',
      subscriptionStatus: 'active',
      // Only the limit sent changed.
      quota: { maxDocuments: 100, maxStorageBytes: 1024 ** 3, maxJobsPerDay: 200 },
    });
    expect((await http('GET', `/users/${bob}/details`, { user: bob })).body).toMatchObject({ plan: 'pro' });

    const bad = await http('PATCH', path, {
      user: alice,
      admin: true,
      body: { plan: 'gold', quota: { maxDocuments: -1, maxPages: 3 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details!.map((d) => d.field).sort()).toEqual([
      'plan',
      'quota.maxDocuments',
      'quota.maxPages',
    ]);
    const empty = await http('PATCH', path, { user: alice, admin: true, body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details).toEqual([
      { field: 'body', message: 'send at least one of plan, subscriptionStatus, quota' },
    ]);
    const unknown = await http('PATCH', `/users/${randomUUID()}/details/subscription`, {
      user: alice,
      admin: true,
      body,
    });
    expect(unknown.status).toBe(404);
    expect((await http('GET', `/users/${bob}/details`, { user: bob })).body).toMatchObject({
      plan: 'pro',
      quota: { maxJobsPerDay: 200 },
    });
  });
});
