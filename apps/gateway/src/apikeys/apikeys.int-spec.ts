// The provider key vault through the public API: the gateway in this process (its pino stream captured), the
// key-vault service as its own process (the built `apps/key-vault/dist/main.js`, every output line captured),
// the real PostgreSQL and a nats-server of the test's own. The test plays the jobs service for grants.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { connect, type NatsConnection } from 'nats';
import { KeyVaultAuditSubjects, KeyVaultSubjects } from '@docflow/contracts';
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
import { FakeTeamAccess, HeaderAuthenticator, TEST_USER_HEADER } from '../testing/test-authenticator';

/** Loose view of a JSON answer: the fields the assertions read. */
interface Answer {
  [field: string]: unknown;
  id: string;
  name: string;
  items: Answer[];
  nextCursor?: string;
  error: { code: string; message: string; details?: { field: string; message: string }[] };
}

const ROOT = resolve(__dirname, '../../../..');
const VAULT = (entry: string) => resolve(ROOT, 'apps/key-vault/dist', entry);

describe('provider keys through the gateway (apikeys routes and grants)', () => {
  let env: TestEnvironment;
  let vaultEnv: Record<string, string>;
  let vault: ServiceProcess;
  let services: NatsRpcClient;
  let apps: GatewayApps;
  let api: string;
  let nc: NatsConnection;
  const gatewayLog: string[] = [];
  const vaultLog: string[] = [];
  const auditMessages: string[] = [];
  /** Every HTTP response body and every NATS reply the test saw, except the one resolve reply it allows. */
  const seen: string[] = [];

  const alice = randomUUID();
  const bob = randomUUID();
  const team = randomUUID();
  const [editor, reader, consumer] = [randomUUID(), randomUUID(), randomUUID()];
  // A realistic key: long, and unlike anything else in the run.
  const SECRET = `sk-proj-${randomBytes(32).toString('base64url')}`;

  async function http(
    method: string,
    path: string,
    { user, body }: { user?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: Answer; text: string }> {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: {
        ...(user ? { [TEST_USER_HEADER]: user } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    seen.push(text);
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Answer, text };
  }

  async function rpc(subject: string, data: unknown, { record = true } = {}) {
    const msg = await nc.request(subject, JSON.stringify({ pattern: subject, data, id: randomUUID() }), {
      timeout: 5_000,
    });
    const text = new TextDecoder().decode(msg.data);
    if (record) seen.push(text);
    return JSON.parse(text) as {
      response?: Record<string, unknown>;
      err?: { code: string; message: string };
    };
  }

  beforeAll(async () => {
    if (!existsSync(VAULT('main.js')))
      throw new Error('build first: npm run build:quiet (apps/key-vault/dist)');
    env = await createTestEnvironment('apikeys');
    vaultEnv = {
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      MASTER_KEY: randomBytes(32).toString('base64'),
      MASTER_KEY_ID: 'test-1',
      // Everything a service can say, so that nothing it might say escapes the check.
      LOG_LEVEL: 'trace',
    };
    await runToCompletion({ name: 'key-vault migrate', script: VAULT('migrate.js'), env: vaultEnv });
    vault = spawnService({
      name: 'key-vault',
      script: VAULT('main.js'),
      env: vaultEnv,
      output: (_name, line) => vaultLog.push(line),
    });

    const destination = new Writable({
      write(chunk, _enc, done) {
        gatewayLog.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ service: 'gateway', level: 'trace', destination });
    services = new NatsRpcClient({ servers: env.natsUrl, name: 'gateway', defaultTimeoutMs: 5_000 });
    services.start();
    const teams = new FakeTeamAccess();
    teams.members.set(team, new Set([alice]));
    teams.roles.set(
      team,
      new Map([
        [editor, 'editor'],
        [reader, 'reader'],
        [consumer, 'consumer'],
      ]),
    );
    apps = await createGatewayApps(
      loadGatewayConfig({ STORAGE_WEBHOOK_TOKEN: 'a-webhook-token-for-tests', LOG_LEVEL: 'trace' }),
      services,
      logger,
      { authenticator: new HeaderAuthenticator(), teamAccess: teams },
    );
    await apps.publicApp.listen(0, '127.0.0.1');
    api = `${await apps.publicApp.getUrl()}/api/v1`.replace('[::1]', '127.0.0.1');

    nc = await connect({ servers: env.natsUrl });
    // What the vault publishes for identity's audit log (from its outbox to KEY_VAULT_AUDIT), as a plain subscriber.
    nc.subscribe(KeyVaultAuditSubjects.recorded, {
      callback: (_err, msg) => auditMessages.push(new TextDecoder().decode(msg.data)),
    });
    await waitFor(async () => !(await rpc(KeyVaultSubjects.healthCheck, {}, { record: false })).err, {
      timeoutMs: 20_000,
      description: 'key-vault to answer',
    });
  });

  afterAll(async () => {
    await apps?.close();
    await services?.close();
    await nc?.close();
    if (vault) await stopService(vault);
    await env?.close();
  });

  it('answers 401 to an anonymous caller, before looking at the body', async () => {
    for (const [method, path, body] of [
      ['POST', '/apikeys', { name: 'k', provider: 'openai', key: SECRET }],
      ['POST', '/apikeys', { nonsense: true }],
      ['GET', '/apikeys', undefined],
      ['DELETE', `/apikeys/${randomUUID()}`, undefined],
    ] as const) {
      const out = await http(method, path, { body });
      expect([path, out.status, out.body.error.code]).toEqual([path, 401, 'UNAUTHENTICATED']);
    }
  });

  it('stores a key, uses it for a job through a grant, deletes it; the key text shows up nowhere else', async () => {
    const created = await http('POST', '/apikeys', {
      user: alice,
      body: { name: 'Personal OpenAI', provider: 'openai', key: SECRET },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'Personal OpenAI',
      provider: 'openai',
      last4: SECRET.slice(-4),
      createdAt: expect.any(String),
    });
    const keyId: string = created.body.id;

    const listed = await http('GET', '/apikeys', { user: alice });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ items: [created.body] });

    // Bad input that carries the key: refused by field, the value never repeated.
    const bad = [
      await http('POST', '/apikeys', { user: alice, body: { name: 'x', provider: 'openia', key: SECRET } }),
      await http('POST', '/apikeys', {
        user: alice,
        body: { name: 'x', provider: 'openai', key: `${SECRET} ` },
      }),
      await http('POST', '/apikeys', {
        user: alice,
        body: { name: 'x', provider: 'openai', apiKey: SECRET },
      }),
      await http('POST', '/apikeys', {
        user: alice,
        body: { name: SECRET.repeat(4), provider: 'openai', key: SECRET },
      }),
      await http('POST', '/apikeys', {
        user: alice,
        body: { name: 'Personal OpenAI', provider: 'openai', key: SECRET },
      }),
    ];
    expect(
      bad.map((b) => [
        b.status,
        [...new Set(b.body.error.details?.map((d: { field: string }) => d.field))].sort(),
      ]),
    ).toEqual([
      [400, ['provider']],
      [400, ['key']],
      [400, ['apiKey', 'key']],
      [400, ['name']],
      [409, ['name']],
    ]);

    // The jobs service grants a job the key; the job's step resolves it; the job ends and the grant goes.
    const jobId = randomUUID();
    const expiresAt = new Date(Date.now() + 10 * 60_000).toISOString();
    const grant = await rpc(KeyVaultSubjects.grantCreate, {
      jobId,
      ownerType: 'user',
      ownerId: alice,
      keyId,
      expiresAt,
    });
    expect(grant.response).toEqual({ jobId, keyId, provider: 'openai', expiresAt });
    const resolved = await rpc(KeyVaultSubjects.keyResolveForJob, { jobId, keyId }, { record: false });
    expect(resolved.response).toEqual({ keyId, provider: 'openai', key: SECRET });
    expect((await rpc(KeyVaultSubjects.grantRevoke, { jobId })).response).toEqual({ revoked: 1 });
    expect((await rpc(KeyVaultSubjects.keyResolveForJob, { jobId, keyId })).err).toEqual({
      code: 'NOT_FOUND',
      message: 'grant not found',
    });

    expect((await http('DELETE', `/apikeys/${keyId}`, { user: alice })).status).toBe(204);
    expect((await http('GET', '/apikeys', { user: alice })).body).toEqual({ items: [] });
    await waitFor(() => auditMessages.length >= 3, { description: 'created, used and deleted audit events' });
    expect(auditMessages.map((m) => (JSON.parse(m) as { type: string }).type)).toEqual(
      expect.arrayContaining(['key.created', 'key.used', 'key.deleted']),
    );

    // The logs did capture the run (so the check below can fail): both streams, at trace level.
    await waitFor(() => vaultLog.some((l) => l.includes('api key deleted')), {
      description: 'the vault logs',
    });
    expect(gatewayLog.join('')).toContain('"route":"/api/v1/apikeys"');
    expect(vaultLog.join('\n')).toContain('key-vault listening on NATS');
    expect(vaultLog.join('\n')).toContain('api key released to a job');

    const everywhere = [...gatewayLog, ...vaultLog, ...auditMessages, ...seen].join('\n');
    expect(everywhere).not.toContain(SECRET);
    // Nor a large piece of it (a truncated or partly redacted copy).
    expect(everywhere).not.toContain(SECRET.slice(8, 28));
    // Nor the master key.
    expect(everywhere).not.toContain(vaultEnv.MASTER_KEY);
  });

  it("answers 404 for another user's key, and changes nothing", async () => {
    const mine = await http('POST', '/apikeys', {
      user: alice,
      body: { name: 'Anthropic', provider: 'anthropic', key: `sk-ant-${randomBytes(24).toString('hex')}` },
    });
    expect(mine.status).toBe(201);
    expect((await http('GET', '/apikeys', { user: bob })).body).toEqual({ items: [] });
    const asBob = await http('DELETE', `/apikeys/${mine.body.id}`, { user: bob });
    expect([asBob.status, asBob.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const unknown = await http('DELETE', `/apikeys/${randomUUID()}`, { user: bob });
    expect(asBob.body.error.message).toBe(unknown.body.error.message);
    expect((await http('GET', '/apikeys', { user: alice })).body.items).toEqual([mine.body]);
    // Nor may Bob's jobs be granted it.
    const grant = await rpc(KeyVaultSubjects.grantCreate, {
      jobId: randomUUID(),
      ownerType: 'user',
      ownerId: bob,
      keyId: mine.body.id,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(grant.err?.code).toBe('NOT_FOUND');
  });

  it("keeps a team's keys for its members as their role allows: others get 404 for the team", async () => {
    const body = {
      name: 'Team key',
      provider: 'azure-openai',
      key: randomBytes(16).toString('hex'),
      teamId: team,
    };
    const created = await http('POST', '/apikeys', { user: alice, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Team key', teamId: team });
    expect((await http('GET', `/apikeys?teamId=${team}`, { user: alice })).body.items).toEqual([
      created.body,
    ]);
    // Team keys are not the user's own keys.
    expect(
      (await http('GET', '/apikeys', { user: alice })).body.items.map((k: { name: string }) => k.name),
    ).not.toContain('Team key');
    for (const out of [
      await http('GET', `/apikeys?teamId=${team}`, { user: bob }),
      await http('POST', '/apikeys', { user: bob, body }),
      await http('DELETE', `/apikeys/${created.body.id}?teamId=${team}`, { user: bob }),
    ]) {
      expect([out.status, out.body.error.message]).toEqual([404, 'team not found']);
    }
    // Roles (docs/authorization.md): editors add and delete, readers list, consumers see nothing of the keys.
    const byEditor = await http('POST', '/apikeys', { user: editor, body: { ...body, name: 'Editor key' } });
    expect(byEditor.status).toBe(201);
    const listed = await http('GET', `/apikeys?teamId=${team}`, { user: reader });
    expect([listed.status, listed.body.items.map((k: { name: string }) => k.name).sort()]).toEqual([
      200,
      ['Editor key', 'Team key'],
    ]);
    for (const out of [
      await http('POST', '/apikeys', { user: reader, body: { ...body, name: 'Reader key' } }),
      await http('DELETE', `/apikeys/${created.body.id}?teamId=${team}`, { user: reader }),
      await http('GET', `/apikeys?teamId=${team}`, { user: consumer }),
      await http('POST', '/apikeys', { user: consumer, body: { ...body, name: 'Consumer key' } }),
    ]) {
      expect([out.status, out.body.error.code]).toEqual([403, 'FORBIDDEN']);
    }
    expect((await http('DELETE', `/apikeys/${created.body.id}?teamId=${team}`, { user: alice })).status).toBe(
      204,
    );
    expect(
      (await http('DELETE', `/apikeys/${byEditor.body.id}?teamId=${team}`, { user: editor })).status,
    ).toBe(204);
  });

  it('pages the list and names bad query fields', async () => {
    const owner = randomUUID();
    for (const name of ['one', 'two', 'three']) {
      const out = await http('POST', '/apikeys', {
        user: owner,
        body: { name, provider: 'mistral', key: randomBytes(16).toString('hex') },
      });
      expect(out.status).toBe(201);
    }
    const first = await http('GET', '/apikeys?limit=2', { user: owner });
    expect(first.body.items.map((k: { name: string }) => k.name)).toEqual(['three', 'two']);
    const second = await http('GET', `/apikeys?limit=2&cursor=${first.body.nextCursor}`, { user: owner });
    expect(second.body).toEqual({ items: [expect.objectContaining({ name: 'one' })] });
    const wrong = await http('GET', '/apikeys?limit=0&teamId=nope', { user: owner });
    expect(wrong.body.error.details!.map((d: { field: string }) => d.field).sort()).toEqual([
      'limit',
      'teamId',
    ]);
    expect((await http('DELETE', '/apikeys/not-a-uuid', { user: owner })).body.error.details).toEqual([
      { field: 'key_id', message: 'must be a UUID' },
    ]);
  });
});
