// The key vault's audit events reach identity's audit log durably: the key vault as its own process (the built
// `apps/key-vault/dist/main.js`), identity in this process, stopped and started again by the test, on the real
// PostgreSQL and a nats-server (JetStream) of the test's own.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import {
  IdentitySubjects,
  KEY_VAULT_AUDIT_STREAM,
  KeyVaultAuditConsumers,
  KeyVaultAuditSubjects,
  KeyVaultSubjects,
  QueueGroups,
  UsersDocsSubjects,
  type AuditEventPage,
  type AuthResult,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import {
  createTestEnvironment,
  runToCompletion,
  spawnService,
  stopService,
  waitFor,
  waitForConsumerAck,
  type ServiceProcess,
  type TestEnvironment,
} from '@docflow/local-platform';
import { PinoNestLogger, createLogger } from '@docflow/observability';
import { RequestContextInterceptor, RpcErrorFilter } from '@docflow/messaging';
import { loadIdentityConfig, type IdentityConfig } from '../config';
import { identityDataSourceOptions } from '../data-source.options';
import { IdentityModule } from '../identity.module';

const ROOT = resolve(__dirname, '../../../..');
const VAULT = (entry: string) => resolve(ROOT, 'apps/key-vault/dist', entry);

describe("key events in identity's audit log (KEY_VAULT_AUDIT)", () => {
  let env: TestEnvironment;
  let config: IdentityConfig;
  let vault: ServiceProcess;
  let identity: INestMicroservice | undefined;
  let nc: NatsConnection;
  let db: Client;
  const vaultLog: string[] = [];

  async function call<T>(subject: string, data: unknown): Promise<T> {
    const msg = await nc.request(subject, JSON.stringify({ pattern: subject, data, id: randomUUID() }), {
      timeout: 10_000,
    });
    const reply = JSON.parse(new TextDecoder().decode(msg.data)) as { response?: T; err?: unknown };
    if (reply.err) throw new Error(`${subject}: ${JSON.stringify(reply.err)}`);
    return reply.response as T;
  }

  async function startIdentity(): Promise<INestMicroservice> {
    const app = await NestFactory.createMicroservice(IdentityModule.forRoot(config), {
      transport: Transport.NATS,
      options: { servers: [env.natsUrl], queue: QueueGroups.identity },
      logger: new PinoNestLogger(createLogger({ service: 'identity', level: 'silent' })),
    });
    app.useGlobalFilters(new RpcErrorFilter());
    app.useGlobalInterceptors(new RequestContextInterceptor());
    await app.listen();
    return app;
  }

  const keyEvents = async (userId: string) =>
    (await call<AuditEventPage>(IdentitySubjects.auditList, { userId, limit: 100 })).items.filter((e) =>
      e.type.startsWith('key.'),
    );

  beforeAll(async () => {
    if (!existsSync(VAULT('main.js')))
      throw new Error('build first: npm run build:quiet (apps/key-vault/dist)');
    env = await createTestEnvironment('keyaudit');
    config = loadIdentityConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      RATE_LIMIT_PREFIX: `key-audit-int-${randomBytes(6).toString('hex')}`,
      JWT_DEV_KEY_FILE: join(env.directory, 'key.json'),
      LOG_LEVEL: 'silent',
    });
    const migrations = createServiceDataSource(identityDataSourceOptions(config));
    await runMigrations(migrations);
    await migrations.destroy();
    const vaultEnv = {
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      MASTER_KEY: randomBytes(32).toString('base64'),
      MASTER_KEY_ID: 'test-1',
      LOG_LEVEL: 'info',
    };
    await runToCompletion({ name: 'key-vault migrate', script: VAULT('migrate.js'), env: vaultEnv });
    vault = spawnService({
      name: 'key-vault',
      script: VAULT('main.js'),
      env: vaultEnv,
      output: (_name, line) => vaultLog.push(line),
    });
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();

    nc = await connect({ servers: env.natsUrl });
    // users-docs as identity's signup sees it.
    nc.subscribe(UsersDocsSubjects.userCreate, {
      callback: (_e, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data)) as {
          id: string;
          data: { id: string; email: string };
        };
        msg.respond(JSON.stringify({ id: packet.id, response: packet.data, isDisposed: true }));
      },
    });
    await nc.flush();
    await waitFor(
      async () => {
        try {
          return (await call<{ status: string }>(KeyVaultSubjects.healthCheck, {})).status === 'ok';
        } catch {
          return false;
        }
      },
      { timeoutMs: 20_000, description: 'key-vault to answer' },
    );
  });

  afterAll(async () => {
    await identity?.close();
    await nc?.close();
    await db?.end();
    if (vault) await stopService(vault);
    await env?.close();
  });

  it('records a key created while identity is down once identity is back, at the time it was created; a repeat records nothing more', async () => {
    identity = await startIdentity();
    const user = await call<AuthResult>(IdentitySubjects.signup, {
      name: 'Kay',
      email: `k-${randomBytes(5).toString('hex')}@example.com`,
      password: 'password-1',
    });
    await identity.close();
    identity = undefined;

    // Identity (and so its consumer) is not running: the vault stores the key all the same.
    const key = await call<{ id: string; createdAt: string }>(KeyVaultSubjects.keyCreate, {
      ownerType: 'user',
      ownerId: user.user.id,
      actorUserId: user.user.id,
      name: 'while identity is down',
      provider: 'openai',
      key: `sk-proj-${randomBytes(24).toString('hex')}`,
    });
    // The event waits in the stream, published from the vault's outbox, with the event id as message id.
    const jsm = await nc.jetstreamManager();
    // Only once the stream holds a message: nats-server 2.9 can crash (nil store in jsMsgGetRequest) when a
    // MSG.GET reaches a stream that is still being created, which is what the relay is doing at this moment.
    await waitFor(
      async () => {
        try {
          return (await jsm.streams.info(KEY_VAULT_AUDIT_STREAM)).state.messages > 0;
        } catch {
          return false;
        }
      },
      { timeoutMs: 20_000, description: 'the event in KEY_VAULT_AUDIT' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; key-vault's output:\n${vaultLog.slice(-30).join('\n')}`);
    });
    const stored = await jsm.streams.getMessage(KEY_VAULT_AUDIT_STREAM, {
      last_by_subj: KeyVaultAuditSubjects.recorded,
    });
    const event = stored.json<{ eventId: string; type: string; targetId: string; at: string }>();
    expect(event).toMatchObject({ type: 'key.created', targetId: key.id });
    expect(stored.header.get('Nats-Msg-Id')).toBe(event.eventId);
    // Marked published once JetStream acknowledged it (in the relay's transaction, committed just after).
    await waitFor(
      async () =>
        (await db.query('SELECT published_at FROM key_vault.outbox WHERE id = $1', [event.eventId])).rows[0]
          ?.published_at != null,
      { description: 'the outbox row marked published' },
    );
    expect(
      (await db.query('SELECT 1 FROM identity.audit_events WHERE id = $1', [event.eventId])).rowCount,
    ).toBe(0);

    // Identity back: its durable consumer records it, under the event's id and at the key's creation time.
    identity = await startIdentity();
    const recorded = await waitFor(
      async () => (await keyEvents(user.user.id)).find((e) => e.targetId === key.id),
      { description: 'key.created in the audit log' },
    );
    expect(recorded).toEqual({
      id: event.eventId,
      type: 'key.created',
      targetId: key.id,
      details: {
        name: 'while identity is down',
        provider: 'openai',
        ownerType: 'user',
        ownerId: user.user.id,
      },
      at: event.at,
    });
    expect(Math.abs(Date.parse(event.at) - Date.parse(key.createdAt))).toBeLessThan(5_000);

    // Delivered again (published a second time beyond the stream's duplicate window: another message id).
    const again = await nc
      .jetstream()
      .publish(KeyVaultAuditSubjects.recorded, stored.data, { msgID: randomUUID() });
    await waitForConsumerAck(nc, KEY_VAULT_AUDIT_STREAM, KeyVaultAuditConsumers.identity, again.seq);
    const rows = await db.query('SELECT count(*)::int AS n FROM identity.audit_events WHERE id = $1', [
      event.eventId,
    ]);
    expect(rows.rows[0].n).toBe(1);
    expect(await keyEvents(user.user.id)).toHaveLength(1);

    // Deleted while identity runs: recorded too.
    await call(KeyVaultSubjects.keyDelete, {
      ownerType: 'user',
      ownerId: user.user.id,
      actorUserId: user.user.id,
      keyId: key.id,
    });
    await waitFor(async () => (await keyEvents(user.user.id)).some((e) => e.type === 'key.deleted'), {
      description: 'key.deleted in the audit log',
    });
  });
});
