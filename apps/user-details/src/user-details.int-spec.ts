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
  IDENTITY_EVENTS_STREAM_SUBJECTS,
  IdentityDeletionConsumers,
  IdentityEventSubjects,
  IdentityTeamSubjects,
  QueueGroups,
  USER_DETAILS_CONSUMER,
  UserDetailsSubjects,
  type UserDeletedEvent,
  type UserDetails,
  type UserRegisteredEvent,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import {
  createTestEnvironment,
  waitFor,
  type TestEnvironment,
  waitForConsumerAck,
} from '@docflow/local-platform';
import { RequestContextInterceptor, RpcErrorFilter } from '@docflow/messaging';
import { loadUserDetailsConfig, type UserDetailsConfig } from './config';
import { userDetailsDataSourceOptions } from './data-source.options';
import { DeletedUserEntity } from './details/deleted-user.entity';
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

  async function publishDeleted(userId: string, event = deleted(userId)): Promise<number> {
    const ack = await nc.jetstream().publish(IdentityEventSubjects.userDeleted, JSON.stringify(event));
    return ack.seq;
  }

  function deleted(userId: string): UserDeletedEvent {
    return { eventId: randomUUID(), userId, deletedAt: new Date().toISOString() };
  }

  /**
   * Every event up to `seq` was acked (or terminated) by `consumer`: nothing pending, nothing waiting for an ack.
   */
  const consumed = (seq: number, consumer: string = USER_DETAILS_CONSUMER) =>
    waitForConsumerAck(nc, IDENTITY_EVENTS_STREAM, consumer, seq);

  const deletionsConsumed = (seq: number) => consumed(seq, IdentityDeletionConsumers.userDetails);

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
    // The stream this service created: exactly identity's event subjects (identity creates the same one).
    expect(stream.config.subjects).toEqual([...IDENTITY_EVENTS_STREAM_SUBJECTS]);

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

  describe('account deletion (identity.user.deleted)', () => {
    it("deletes the user's details; the same event twice changes nothing more", async () => {
      const event = registered('grace@acme.com', 'Grace');
      const other = registered('heidi@gmail.com', 'Heidi');
      await publish(event);
      await consumed(await publish(other));
      expect(await row(event.userId)).toMatchObject({ setupStatus: 'complete' });

      const deletion = deleted(event.userId.toUpperCase());
      await publishDeleted(event.userId, deletion);
      await deletionsConsumed(await publishDeleted(event.userId, deletion));
      expect(await row(event.userId)).toBeNull();
      expect(await db.getRepository(DeletedUserEntity).findOneBy({ userId: event.userId })).toMatchObject({
        eventId: deletion.eventId,
      });
      expect(await row(other.userId)).toMatchObject({ plan: 'free' });
      expect((await call(UserDetailsSubjects.get, { userId: event.userId })).err?.code).toBe('NOT_FOUND');
    });

    it('forgets a deleted team as the default team of its members (identity.team.deleted)', async () => {
      const event = registered('ivan@acme.com', 'Ivan');
      await consumed(await publish(event));
      const teamId = teams.get(event.userId)!;
      expect(await row(event.userId)).toMatchObject({ defaultTeamId: teamId });
      const ack = await nc
        .jetstream()
        .publish(
          IdentityEventSubjects.teamDeleted,
          JSON.stringify({ eventId: randomUUID(), teamId, deletedAt: new Date().toISOString() }),
        );
      await deletionsConsumed(ack.seq);
      expect(await row(event.userId)).toMatchObject({ defaultTeamId: null, setupStatus: 'complete' });
    });

    it('acknowledges the deletion of a user it never set up, and sets nothing up for them later', async () => {
      const event = registered('ivan@acme.com', 'Ivan');
      await deletionsConsumed(await publishDeleted(event.userId));
      // The registration handled after the deletion (redelivered, or the setup was behind) makes nothing.
      await consumed(await publish(event));
      expect(await row(event.userId)).toBeNull();
      expect(teamCalls.has(event.userId)).toBe(false);
    });

    it('does not bring back the details of a user deleted while their setup waited for identity', async () => {
      identity!.unsubscribe();
      await nc.flush();
      const event = registered('judy@acme.com', 'Judy');
      const seq = await publish(event);
      await waitFor(async () => (await row(event.userId))?.setupStatus === 'pending_team');
      // The deletion is not held back by the setup waiting on identity (a consumer of its own).
      await deletionsConsumed(await publishDeleted(event.userId));
      expect(await row(event.userId)).toBeNull();

      identity = answerAsIdentity();
      await nc.flush();
      await consumed(seq);
      expect(await row(event.userId)).toBeNull();
      expect(teamCalls.has(event.userId)).toBe(false);
    });

    it('does not retry a setup whose user identity no longer knows; the deletion removes the row', async () => {
      identity!.unsubscribe();
      const gone = nc.subscribe(IdentityTeamSubjects.createDefault, {
        callback: (_err, msg) => {
          const { id } = JSON.parse(new TextDecoder().decode(msg.data)) as { id: string };
          msg.respond(
            JSON.stringify({ id, err: { code: 'NOT_FOUND', message: 'user not found' }, isDisposed: true }),
          );
        },
      });
      await nc.flush();
      try {
        const event = registered('ken@acme.com', 'Ken');
        await consumed(await publish(event));
        const jsm = await nc.jetstreamManager();
        const info = await jsm.consumers.info(IDENTITY_EVENTS_STREAM, USER_DETAILS_CONSUMER);
        expect(info.num_redelivered).toBe(0); // acknowledged at once, not retried
        expect(await row(event.userId)).toMatchObject({ setupStatus: 'pending_team' });
        await deletionsConsumed(await publishDeleted(event.userId));
        expect(await row(event.userId)).toBeNull();
      } finally {
        gone.unsubscribe();
        identity = answerAsIdentity();
        await nc.flush();
      }
    });

    it('deletes the details of a user deleted while the service was down once it is back', async () => {
      const event = registered('leo@gmail.com', 'Leo');
      await consumed(await publish(event));
      await app!.close();
      app = undefined;
      const seq = await publishDeleted(event.userId);
      expect(await row(event.userId)).not.toBeNull();

      app = await startService();
      await deletionsConsumed(seq);
      expect(await row(event.userId)).toBeNull();
    });

    it('reports both consumers in its health', async () => {
      const out = await call<{ checks: Record<string, unknown> }>(UserDetailsSubjects.healthCheck, {});
      expect(out.response?.checks).toEqual({ database: { status: 'ok' }, events: { status: 'ok' } });
    });
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
