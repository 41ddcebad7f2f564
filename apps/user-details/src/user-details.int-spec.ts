// user-details on the real PostgreSQL and a nats-server with JetStream of the test's own: the new-user setup from
// `identity.user.registered` (durable consumer, at least once, idempotent) and the details subjects. The test
// plays identity: it publishes the events and answers `identity.team.create-default`.
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { DataSource } from 'typeorm';
import {
  IDENTITY_EVENTS_STREAM,
  IdentityEventSubjects,
  IdentityTeamSubjects,
  QueueGroups,
  USER_DETAILS_CONSUMER,
  UserDetailsSubjects,
  type UserDetails,
  type UserRegisteredEvent,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import { createTestEnvironment, waitFor, type TestEnvironment } from '@docflow/local-platform';
import { RequestContextInterceptor, RpcErrorFilter } from '@docflow/messaging';
import { loadUserDetailsConfig, type UserDetailsConfig } from './config';
import { userDetailsDataSourceOptions } from './data-source.options';
import { UserDetailsEntity } from './details/user-details.entity';
import { PLAN_QUOTAS } from './setup/eligibility';
import { UserDetailsModule } from './user-details.module';

type Reply<T> = { response?: T; err?: { code: string; message: string; details?: unknown } };

describe('user-details: new-user setup from JetStream, and the details subjects', () => {
  let env: TestEnvironment;
  let config: UserDetailsConfig;
  let app: INestMicroservice | undefined;
  let nc: NatsConnection;
  let db: DataSource;
  let identity: Subscription | undefined;
  /** create-default calls per user, and the team identity made for each (identity is idempotent per user). */
  const teamCalls = new Map<string, number>();
  const teams = new Map<string, string>();

  async function startService(): Promise<INestMicroservice> {
    const service = await NestFactory.createMicroservice(UserDetailsModule.forRoot(config), {
      transport: Transport.NATS,
      options: { servers: [env.natsUrl], queue: QueueGroups.userDetails },
      logger: false,
    });
    service.useGlobalFilters(new RpcErrorFilter());
    service.useGlobalInterceptors(new RequestContextInterceptor());
    await service.listen();
    return service;
  }

  function answerAsIdentity(): Subscription {
    return nc.subscribe(IdentityTeamSubjects.createDefault, {
      callback: (_err, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data)) as {
          id: string;
          data: { userId: string };
        };
        const { userId } = packet.data;
        teamCalls.set(userId, (teamCalls.get(userId) ?? 0) + 1);
        if (!teams.has(userId)) teams.set(userId, randomUUID());
        msg.respond(
          JSON.stringify({ id: packet.id, response: { teamId: teams.get(userId) }, isDisposed: true }),
        );
      },
    });
  }

  async function call<T>(subject: string, data: unknown): Promise<Reply<T>> {
    const msg = await nc.request(subject, JSON.stringify({ pattern: subject, data, id: randomUUID() }), {
      timeout: 5_000,
    });
    return JSON.parse(new TextDecoder().decode(msg.data)) as Reply<T>;
  }

  function registered(email: string, name = 'Ada Lovelace'): UserRegisteredEvent {
    return {
      eventId: randomUUID(),
      userId: randomUUID(),
      email,
      name,
      registeredAt: new Date().toISOString(),
    };
  }

  async function publish(event: unknown): Promise<number> {
    const ack = await nc.jetstream().publish(IdentityEventSubjects.userRegistered, JSON.stringify(event));
    return ack.seq;
  }

  /** Every event up to `seq` was acked (or terminated): nothing pending, nothing waiting for an ack. */
  async function consumed(seq: number): Promise<void> {
    const jsm = await nc.jetstreamManager();
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(IDENTITY_EVENTS_STREAM, USER_DETAILS_CONSUMER);
        return info.ack_floor.stream_seq >= seq && info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs: 20_000, description: `the consumer to ack up to ${seq}` },
    );
  }

  const row = (userId: string) => db.getRepository(UserDetailsEntity).findOneBy({ userId });

  beforeAll(async () => {
    env = await createTestEnvironment('userdetails');
    config = loadUserDetailsConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      TEAM_PLAN_EMAIL_DOMAINS: 'acme.com, example.org',
      SETUP_RETRY_BASE_MS: '100',
      SETUP_RETRY_MAX_MS: '400',
      SETUP_ACK_WAIT_MS: '2000',
      IDENTITY_TIMEOUT_MS: '1000',
    });
    db = createServiceDataSource(userDetailsDataSourceOptions(config));
    await runMigrations(db);
    nc = await connect({ servers: env.natsUrl });
    identity = answerAsIdentity();
    await nc.flush();
    app = await startService();
    await waitFor(
      async () =>
        (await call<{ status: string }>(UserDetailsSubjects.healthCheck, {})).response?.status === 'ok',
      {
        description: 'user-details to consume',
      },
    );
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    if (db?.isInitialized) await db.destroy();
    await env?.close();
  });

  it('has migrations that match the entities exactly (no schema drift)', async () => {
    const pending = await db.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    expect(await db.showMigrations()).toBe(false);
  });

  it('sets up a sponsored user exactly once when the event is delivered twice', async () => {
    const event = registered('ada@eng.acme.com');
    await publish(event);
    const seq = await publish(event); // the same event again (identity retried its publish)
    await consumed(seq);

    expect(teamCalls.get(event.userId)).toBe(1);
    expect(await db.getRepository(UserDetailsEntity).countBy({ userId: event.userId })).toBe(1);
    const details = await call<UserDetails>(UserDetailsSubjects.get, { userId: event.userId });
    expect(details.response).toEqual({
      userId: event.userId,
      displayName: 'Ada Lovelace',
      locale: 'en',
      timezone: 'UTC',
      plan: 'team',
      subscriptionStatus: 'active',
      quota: PLAN_QUOTAS.team,
      defaultTeamId: teams.get(event.userId),
      setupStatus: 'complete',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect((await row(event.userId))!.setupEventId).toBe(event.eventId);
  });

  it('gives anyone else the minimal set and asks identity for no team', async () => {
    const event = registered('bob@gmail.com', 'Bob');
    await consumed(await publish(event));
    expect(teamCalls.has(event.userId)).toBe(false);
    expect(await row(event.userId)).toMatchObject({
      plan: 'free',
      subscriptionStatus: 'none',
      ...PLAN_QUOTAS.free,
      defaultTeamId: null,
      setupStatus: 'complete',
    });
  });

  it('sets up a user registered while the service was down once it is back', async () => {
    await app!.close();
    app = undefined;
    const event = registered('carol@example.org', 'Carol');
    const seq = await publish(event);
    // Nothing is served meanwhile; the event waits in the stream for the durable consumer.
    expect(await row(event.userId)).toBeNull();
    const jsm = await nc.jetstreamManager();
    const stream = await jsm.streams.info(IDENTITY_EVENTS_STREAM);
    expect(stream.state.last_seq).toBe(seq);

    app = await startService();
    await consumed(seq);
    expect(await row(event.userId)).toMatchObject({
      plan: 'team',
      setupStatus: 'complete',
      defaultTeamId: teams.get(event.userId),
    });
    expect(teamCalls.get(event.userId)).toBe(1);
  });

  it('keeps the setup pending while identity does not answer, and finishes it when identity is back', async () => {
    identity!.unsubscribe();
    await nc.flush();
    const event = registered('dan@acme.com', 'Dan');
    const seq = await publish(event);
    // The details row exists at once (the user can read it); the team waits.
    await waitFor(async () => (await row(event.userId))?.setupStatus === 'pending_team');
    const jsm = await nc.jetstreamManager();
    // The event is nak'ed and comes back (redelivered) rather than being acked.
    await waitFor(async () => {
      const info = await jsm.consumers.info(IDENTITY_EVENTS_STREAM, USER_DETAILS_CONSUMER);
      return info.num_redelivered > 0 && info.ack_floor.stream_seq < seq;
    });
    expect(teamCalls.has(event.userId)).toBe(false);

    identity = answerAsIdentity();
    await nc.flush();
    await consumed(seq);
    expect(await row(event.userId)).toMatchObject({
      setupStatus: 'complete',
      defaultTeamId: teams.get(event.userId),
    });
    expect(teamCalls.get(event.userId)).toBe(1);
  });

  it('drops a malformed event for good and goes on with the next', async () => {
    await publish({ hello: 'world' });
    const next = registered('erin@gmail.com', 'Erin');
    await consumed(await publish(next));
    expect(await row(next.userId)).toMatchObject({ plan: 'free' });
  });

  describe('details subjects', () => {
    let userId: string;

    beforeAll(async () => {
      const event = registered('frank@gmail.com', 'Frank');
      await consumed(await publish(event));
      userId = event.userId;
    });

    it('changes profile fields only; plan, subscription and quota stay as billing set them', async () => {
      const out = await call<UserDetails>(UserDetailsSubjects.update, {
        userId,
        displayName: ' Frankie ',
        bio: 'Writes docs.',
        locale: 'fr-ca',
        timezone: 'europe/paris',
        avatarUrl: 'https://cdn.example.com/f.png',
        plan: 'team',
        subscriptionStatus: 'active',
        quota: { maxDocuments: 1e9 },
      });
      expect(out.response).toMatchObject({
        displayName: 'Frankie',
        bio: 'Writes docs.',
        locale: 'fr-CA',
        timezone: 'Europe/Paris',
        avatarUrl: 'https://cdn.example.com/f.png',
        plan: 'free',
        subscriptionStatus: 'none',
        quota: PLAN_QUOTAS.free,
      });
      const cleared = await call<UserDetails>(UserDetailsSubjects.update, {
        userId,
        bio: null,
        avatarUrl: null,
      });
      expect(cleared.response).not.toHaveProperty('bio');
      expect(cleared.response).not.toHaveProperty('avatarUrl');
      expect(cleared.response).toMatchObject({ displayName: 'Frankie' });
    });

    it('names the field of every invalid value', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ displayName: '  ' }, 'displayName'],
        [{ displayName: 'x'.repeat(101) }, 'displayName'],
        [{ bio: 'x'.repeat(1001) }, 'bio'],
        [{ locale: 'english please' }, 'locale'],
        [{ timezone: 'Mars/Olympus' }, 'timezone'],
        [{ avatarUrl: 'http://insecure.example.com/a.png' }, 'avatarUrl'],
        [{ avatarUrl: 'javascript:alert(1)' }, 'avatarUrl'],
      ];
      for (const [patch, field] of cases) {
        const out = await call(UserDetailsSubjects.update, { userId, ...patch });
        expect([field, out.err?.code, out.err?.details]).toEqual([
          field,
          'VALIDATION_FAILED',
          [expect.objectContaining({ field })],
        ]);
      }
    });

    it('answers NOT_FOUND for a user without details', async () => {
      for (const subject of [UserDetailsSubjects.get, UserDetailsSubjects.update]) {
        expect((await call(subject, { userId: randomUUID(), displayName: 'x' })).err).toEqual({
          code: 'NOT_FOUND',
          message: 'user details not found',
        });
      }
    });
  });
});
