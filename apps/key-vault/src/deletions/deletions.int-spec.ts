// key-vault erasing a deleted user's or team's keys from identity's durable events (JetStream, a nats-server of
// the test's own) on the real PostgreSQL. The test plays identity: it publishes `identity.*.deleted`.
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import { connect, type NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import {
  IDENTITY_EVENTS_STREAM,
  IdentityDeletionConsumers,
  IdentityEventSubjects,
  KeyVaultSubjects,
  QueueGroups,
  type ApiKeySummary,
  type KeyOwner,
  type TeamDeletedEvent,
  type UserDeletedEvent,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import {
  createTestEnvironment,
  waitFor,
  type TestEnvironment,
  waitForConsumerAck,
} from '@docflow/local-platform';
import { PinoNestLogger, createLogger } from '@docflow/observability';
import { RequestContextInterceptor, RpcErrorFilter } from '@docflow/messaging';
import { loadKeyVaultConfig, type KeyVaultConfig } from '../config';
import { LocalKeyProvider } from '../crypto/key-provider';
import { keyVaultDataSourceOptions } from '../data-source.options';
import { GrantEntity } from '../grants/grant.entity';
import { KeyVaultModule } from '../key-vault.module';
import { ApiKeyEntity } from '../keys/api-key.entity';
import { DataKeyEntity } from '../keys/data-key.entity';

type Reply<T> = { response?: T; err?: { code: string; message: string; details?: unknown } };

describe('key-vault: erasing deleted users and teams', () => {
  let env: TestEnvironment;
  let config: KeyVaultConfig;
  let app: INestMicroservice | undefined;
  let nc: NatsConnection;
  let db: DataSource;
  const provider = new LocalKeyProvider({ id: 'm1', key: randomBytes(32) });
  const logLines: string[] = [];
  const secrets: string[] = [];

  async function call<T>(subject: string, data: unknown): Promise<Reply<T>> {
    const msg = await nc.request(subject, JSON.stringify({ pattern: subject, data, id: randomUUID() }), {
      timeout: 5_000,
    });
    return JSON.parse(new TextDecoder().decode(msg.data)) as Reply<T>;
  }

  async function startVault(): Promise<INestMicroservice> {
    const destination = new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    const vault = await NestFactory.createMicroservice(
      KeyVaultModule.forRoot(config, { keyProvider: provider }),
      {
        transport: Transport.NATS,
        options: { servers: [env.natsUrl], queue: QueueGroups.keyVault },
        logger: new PinoNestLogger(createLogger({ service: 'key-vault', level: 'debug', destination })),
      },
    );
    vault.useGlobalFilters(new RpcErrorFilter());
    vault.useGlobalInterceptors(new RequestContextInterceptor());
    await vault.listen();
    return vault;
  }

  /** A key of `owner`, with a live grant for a job of its own. */
  async function keyWithGrant(owner: KeyOwner): Promise<{ keyId: string; jobId: string }> {
    const secret = `sk-proj-${randomBytes(24).toString('hex')}`;
    secrets.push(secret);
    const key = await call<ApiKeySummary>(KeyVaultSubjects.keyCreate, {
      ...owner,
      actorUserId: owner.ownerType === 'user' ? owner.ownerId : randomUUID(),
      name: `key ${randomUUID()}`,
      provider: 'openai',
      key: secret,
    });
    expect(key.err).toBeUndefined();
    const jobId = randomUUID();
    const grant = await call(KeyVaultSubjects.grantCreate, {
      ...owner,
      jobId,
      keyId: key.response!.id,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(grant.err).toBeUndefined();
    return { keyId: key.response!.id, jobId };
  }

  /** What the vault holds of an owner: keys, data keys, grants of its keys. */
  async function held(owner: KeyOwner): Promise<{ keys: number; dataKeys: number; grants: number }> {
    const keys = await db.getRepository(ApiKeyEntity).findBy(owner);
    return {
      keys: keys.length,
      dataKeys: await db.getRepository(DataKeyEntity).countBy(owner),
      grants: keys.length
        ? await db
            .getRepository(GrantEntity)
            .createQueryBuilder('g')
            .where('g.key_id IN (:...ids)', { ids: keys.map((k) => k.id) })
            .getCount()
        : 0,
    };
  }

  const userDeleted = (userId: string): UserDeletedEvent => ({
    eventId: randomUUID(),
    userId,
    deletedAt: new Date().toISOString(),
  });
  const teamDeleted = (teamId: string): TeamDeletedEvent => ({
    eventId: randomUUID(),
    teamId,
    deletedAt: new Date().toISOString(),
  });

  async function publish(subject: string, event: unknown): Promise<number> {
    return (await nc.jetstream().publish(subject, JSON.stringify(event))).seq;
  }

  /** Every event up to `seq` was acked (or terminated): nothing pending, nothing waiting for an ack. */
  const consumed = (seq: number) =>
    waitForConsumerAck(nc, IDENTITY_EVENTS_STREAM, IdentityDeletionConsumers.keyVault, seq);

  beforeAll(async () => {
    env = await createTestEnvironment('keyvault_deletions');
    config = loadKeyVaultConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      MASTER_KEY: randomBytes(32).toString('base64'),
      DELETION_RETRY_BASE_MS: '100',
      DELETION_RETRY_MAX_MS: '400',
    });
    db = createServiceDataSource(keyVaultDataSourceOptions(config));
    await runMigrations(db);
    nc = await connect({ servers: env.natsUrl });
    await nc.flush();
    app = await startVault();
    await waitFor(
      async () =>
        (await call<{ status: string }>(KeyVaultSubjects.healthCheck, {})).response?.status === 'ok',
      { description: 'key-vault to consume the deletion events' },
    );
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    if (db?.isInitialized) await db.destroy();
    await env?.close();
  });

  afterAll(() => {
    // Whatever happened above, no stored key's text was ever logged.
    const logs = logLines.join('');
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });

  it('reports the consumer in its health', async () => {
    const out = await call<{ checks: Record<string, unknown> }>(KeyVaultSubjects.healthCheck, {});
    expect(out.response?.checks).toEqual({
      database: { status: 'ok' },
      masterKey: { status: 'ok' },
      events: { status: 'ok' },
    });
  });

  it("erases a deleted user's keys, data key and grants, and nobody else's; a repeated event changes nothing", async () => {
    const user: KeyOwner = { ownerType: 'user', ownerId: randomUUID() };
    const other: KeyOwner = { ownerType: 'user', ownerId: randomUUID() };
    // A team whose id happens to be the user's: only the owner type tells them apart.
    const sameIdTeam: KeyOwner = { ownerType: 'team', ownerId: user.ownerId };
    const first = await keyWithGrant(user);
    await keyWithGrant(user);
    const others = await keyWithGrant(other);
    await keyWithGrant(sameIdTeam);
    expect(await held(user)).toEqual({ keys: 2, dataKeys: 1, grants: 2 });

    const event = userDeleted(user.ownerId.toUpperCase());
    await publish(IdentityEventSubjects.userDeleted, event);
    const seq = await publish(IdentityEventSubjects.userDeleted, event); // identity published it twice
    await consumed(seq);

    expect(await held(user)).toEqual({ keys: 0, dataKeys: 0, grants: 0 });
    expect(await held(other)).toEqual({ keys: 1, dataKeys: 1, grants: 1 });
    expect(await held(sameIdTeam)).toEqual({ keys: 1, dataKeys: 1, grants: 1 });
    const resolved = await call(KeyVaultSubjects.keyResolveForJob, first);
    expect(resolved.err?.code).toBe('NOT_FOUND');
    const listed = await call<{ items: unknown[] }>(KeyVaultSubjects.keyList, user);
    expect(listed.response?.items).toEqual([]);
    expect((await call(KeyVaultSubjects.keyResolveForJob, others)).err).toBeUndefined();

    // The log says what went, by id only.
    const erased = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'owner erased' && line.ownerId === user.ownerId);
    expect(erased).toEqual([
      expect.objectContaining({
        ownerType: 'user',
        eventId: event.eventId,
        grants: 2,
        dataKeyIds: [expect.any(String)],
      }),
    ]);
    expect(erased[0]!.keyIds).toHaveLength(2);
  });

  it('stores no key for an owner erased a moment ago (a request authorized before the deletion)', async () => {
    const user: KeyOwner = { ownerType: 'user', ownerId: randomUUID() };
    await keyWithGrant(user);
    await consumed(await publish(IdentityEventSubjects.userDeleted, userDeleted(user.ownerId)));
    const late = await call(KeyVaultSubjects.keyCreate, {
      ...user,
      actorUserId: user.ownerId,
      name: 'late',
      provider: 'openai',
      key: 'sk-late-0123456789abcdef',
    });
    expect(late.err).toEqual({ code: 'NOT_FOUND', message: 'owner not found' });
    expect(await held(user)).toEqual({ keys: 0, dataKeys: 0, grants: 0 });
  });

  it("erases a deleted team's keys, not its members' own", async () => {
    const team: KeyOwner = { ownerType: 'team', ownerId: randomUUID() };
    const member: KeyOwner = { ownerType: 'user', ownerId: randomUUID() };
    await keyWithGrant(team);
    await keyWithGrant(member);
    await consumed(await publish(IdentityEventSubjects.teamDeleted, teamDeleted(team.ownerId)));
    expect(await held(team)).toEqual({ keys: 0, dataKeys: 0, grants: 0 });
    expect(await held(member)).toEqual({ keys: 1, dataKeys: 1, grants: 1 });
  });

  it('acknowledges an event for an owner it never knew, and drops a malformed one', async () => {
    await publish(IdentityEventSubjects.userDeleted, userDeleted(randomUUID()));
    await publish(IdentityEventSubjects.userDeleted, { userId: 'not-a-uuid' });
    const team: KeyOwner = { ownerType: 'team', ownerId: randomUUID() };
    await keyWithGrant(team);
    await consumed(await publish(IdentityEventSubjects.teamDeleted, teamDeleted(team.ownerId)));
    expect(await held(team)).toEqual({ keys: 0, dataKeys: 0, grants: 0 });
  });

  it('erases a user deleted while the vault was down once it is back', async () => {
    const user: KeyOwner = { ownerType: 'user', ownerId: randomUUID() };
    await keyWithGrant(user);
    await app!.close();
    app = undefined;
    const seq = await publish(IdentityEventSubjects.userDeleted, userDeleted(user.ownerId));
    // Nothing consumes meanwhile: the event waits in the stream for the durable consumer.
    const jsm = await nc.jetstreamManager();
    const info = await jsm.consumers.info(IDENTITY_EVENTS_STREAM, IdentityDeletionConsumers.keyVault);
    expect(info.num_pending).toBe(1);
    expect(await held(user)).toEqual({ keys: 1, dataKeys: 1, grants: 1 });

    app = await startVault();
    await consumed(seq);
    expect(await held(user)).toEqual({ keys: 0, dataKeys: 0, grants: 0 });
  });
});
