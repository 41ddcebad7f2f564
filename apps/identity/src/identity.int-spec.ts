// identity on the real PostgreSQL, NATS (with JetStream) and Redis, driven over NATS the way the gateway does.
// users-docs is a stand-in on the same NATS that records what it is asked.
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import { connect, consumerOpts, type NatsConnection } from 'nats';
import { Client } from 'pg';
import {
  IDENTITY_EVENTS_STREAM,
  IDENTITY_EVENTS_STREAM_SUBJECTS,
  IdentitySubjects,
  IdentityTeamSubjects,
  KEY_VAULT_AUDIT_STREAM,
  KeyAuditEvents,
  KeyVaultAuditConsumers,
  KeyVaultAuditSubjects,
  IdentityEventSubjects,
  QueueGroups,
  UsersDocsSubjects,
  type AuthResult,
  type CreateDefaultTeamReply,
  type LogoutResult,
  type SessionCheckResult,
  type KeyAuditRecordedEvent,
  type TeamDeletedEvent,
  type UserDeletedEvent,
  type UserRegisteredEvent,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import {
  createTestEnvironment,
  waitFor,
  waitForConsumerAck,
  type TestEnvironment,
} from '@docflow/local-platform';
import { PinoNestLogger, createLogger } from '@docflow/observability';
import { RequestContextInterceptor, RpcErrorFilter, STREAMS, ensureStream } from '@docflow/messaging';
import { loadIdentityConfig } from './config';
import { identityDataSourceOptions } from './data-source.options';
import { IdentityModule } from './identity.module';
import { OutboxRelay } from './outbox/outbox.relay';

describe('identity over NATS', () => {
  let env: TestEnvironment;
  let app: INestMicroservice;
  let nc: NatsConnection;
  const usersDocs = new Map<string, { id: string; email: string; createdAt?: number }>();
  let refuseUsersDocs = false;

  async function call<T>(
    subject: string,
    data: unknown,
  ): Promise<{ response?: T; err?: { code: string; message: string; details?: unknown } }> {
    const msg = await nc.request(subject, JSON.stringify({ pattern: subject, data, id: randomUUID() }), {
      timeout: 10_000,
    });
    return JSON.parse(new TextDecoder().decode(msg.data));
  }

  async function ok<T>(subject: string, data: unknown): Promise<T> {
    const reply = await call<T>(subject, data);
    if (reply.err) throw new Error(`${subject}: ${JSON.stringify(reply.err)}`);
    return reply.response as T;
  }

  const newEmail = () => `u-${randomBytes(5).toString('hex')}@example.com`;

  beforeAll(async () => {
    env = await createTestEnvironment('identity');
    const config = loadIdentityConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      RATE_LIMIT_PREFIX: `identity-int-${randomBytes(6).toString('hex')}`,
      RATE_LIMIT_LOGIN_IP: '3/60',
      // Every test signs up from addresses of its own (or none, which no per-IP limit counts).
      RATE_LIMIT_SIGNUP_IP: '4/3600',
      JWT_DEV_KEY_FILE: join(env.directory, 'key.json'),
      LOG_LEVEL: 'silent',
    });
    const migrations = createServiceDataSource(identityDataSourceOptions(config));
    await runMigrations(migrations);
    await migrations.destroy();

    nc = await connect({ servers: env.natsUrl });
    // users-docs as identity sees it: create (idempotent on id) and delete.
    nc.subscribe(UsersDocsSubjects.userCreate, {
      callback: (_e, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data));
        const { id, email } = packet.data as { id: string; email: string };
        // As users-docs answers: the same email under another id is a CONFLICT.
        const taken = [...usersDocs.values()].some((u) => u.email === email && u.id !== id);
        const reply = refuseUsersDocs
          ? { err: { code: 'SERVICE_UNAVAILABLE', message: 'users-docs is down' } }
          : taken
            ? { err: { code: 'CONFLICT', message: 'email: a user with this email already exists' } }
            : { response: { id, email } };
        if (!refuseUsersDocs && !taken) usersDocs.set(id, { id, email, createdAt: Date.now() });
        msg.respond(JSON.stringify({ id: packet.id, ...reply, isDisposed: true }));
      },
    });
    nc.subscribe(UsersDocsSubjects.userReclaim, {
      callback: (_e, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data));
        const { email, createdBefore } = packet.data as { email: string; createdBefore: string };
        const old = [...usersDocs.values()].find(
          (u) => u.email === email && (u.createdAt ?? 0) < Date.parse(createdBefore),
        );
        if (old) usersDocs.delete(old.id);
        msg.respond(JSON.stringify({ id: packet.id, response: { reclaimed: !!old }, isDisposed: true }));
      },
    });
    nc.subscribe(UsersDocsSubjects.userDelete, {
      callback: (_e, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data));
        // As users-docs answers: NOT_FOUND for an id it does not have.
        const reply = usersDocs.delete(packet.data.userId)
          ? { response: { deleted: true } }
          : { err: { code: 'NOT_FOUND', message: 'user not found' } };
        msg.respond(JSON.stringify({ id: packet.id, ...reply, isDisposed: true }));
      },
    });
    await nc.flush();

    app = await NestFactory.createMicroservice(IdentityModule.forRoot(config), {
      transport: Transport.NATS,
      options: { servers: [env.natsUrl], queue: QueueGroups.identity },
      logger: new PinoNestLogger(createLogger({ service: 'identity', level: 'silent' })),
    });
    app.useGlobalFilters(new RpcErrorFilter());
    app.useGlobalInterceptors(new RequestContextInterceptor());
    await app.listen();
  });

  afterAll(async () => {
    await nc?.close();
    await app?.close();
    await env?.close();
  });

  it('has migrations that match the entities exactly (no schema drift)', async () => {
    const config = loadIdentityConfig({ DATABASE_URL: env.databaseUrl });
    const dataSource = await createServiceDataSource(identityDataSourceOptions(config)).initialize();
    try {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      expect(await dataSource.showMigrations()).toBe(false);
    } finally {
      await dataSource.destroy();
    }
  });

  it('signup creates the users-docs record under the same id and publishes identity.user.registered once', async () => {
    const email = newEmail();
    const result = await ok<AuthResult>(IdentitySubjects.signup, {
      name: 'Ann',
      email,
      password: 'password-1',
    });
    expect(usersDocs.get(result.user.id)).toMatchObject({ id: result.user.id, email });
    const relay = app.get(OutboxRelay);
    await waitFor(() => relay.flushed(), { description: 'the outbox to be published' });

    const seen: UserRegisteredEvent[] = [];
    const opts = consumerOpts().orderedConsumer();
    const sub = await nc.jetstream().subscribe(IdentityEventSubjects.userRegistered, opts);
    const jsm = await nc.jetstreamManager();
    const total = (await jsm.streams.info(IDENTITY_EVENTS_STREAM)).state.messages;
    for await (const m of sub) {
      seen.push(m.json<UserRegisteredEvent>());
      if (seen.length >= total) break;
    }
    sub.unsubscribe();
    const mine = seen.filter((e) => e.userId === result.user.id);
    expect(mine).toEqual([
      {
        eventId: expect.any(String),
        userId: result.user.id,
        email,
        name: 'Ann',
        registeredAt: result.user.createdAt,
      },
    ]);
  });

  it('publishes an event written while the stream was missing once it can (outbox retry)', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(IDENTITY_EVENTS_STREAM);
    const result = await ok<AuthResult>(IdentitySubjects.signup, {
      name: 'Bo',
      email: newEmail(),
      password: 'password-1',
    });
    const relay = app.get(OutboxRelay);
    await waitFor(() => relay.flushed(), { timeoutMs: 10_000, description: 'the outbox to be published' });
    const info = await jsm.streams.info(IDENTITY_EVENTS_STREAM);
    expect(info.config.subjects).toEqual([...IDENTITY_EVENTS_STREAM_SUBJECTS]);
    const last = await jsm.streams.getMessage(IDENTITY_EVENTS_STREAM, {
      last_by_subj: IdentityEventSubjects.userRegistered,
    });
    expect(last.json<UserRegisteredEvent>().userId).toBe(result.user.id);
  });

  it('creates nothing when users-docs refuses, and names the email taken otherwise', async () => {
    const email = newEmail();
    refuseUsersDocs = true;
    try {
      const reply = await call(IdentitySubjects.signup, { name: 'Cy', email, password: 'password-1' });
      expect(reply.err?.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      refuseUsersDocs = false;
    }
    const login = await call(IdentitySubjects.login, { email, password: 'password-1' });
    expect(login.err?.code).toBe('UNAUTHENTICATED');
    await ok(IdentitySubjects.signup, { name: 'Cy', email, password: 'password-1' });
    const again = await call(IdentitySubjects.signup, {
      name: 'Cy',
      email: email.toUpperCase(),
      password: 'password-1',
    });
    expect(again.err?.code).toBe('CONFLICT');
  });

  it('a signup that crashed between its two steps does not block the address: an old empty record is reclaimed, a young one is a signup in progress', async () => {
    // What a crash after the users-docs record and before the account commit leaves: a record, no account.
    const crashed = newEmail();
    usersDocs.set('00000000-0000-4000-8000-00000000dead', {
      id: '00000000-0000-4000-8000-00000000dead',
      email: crashed,
      createdAt: Date.now() - 5 * 60_000,
    });
    const result = await ok<AuthResult>(IdentitySubjects.signup, {
      name: 'C',
      email: crashed,
      password: 'password-1',
    });
    expect(usersDocs.has('00000000-0000-4000-8000-00000000dead')).toBe(false);
    expect(usersDocs.get(result.user.id)).toMatchObject({ email: crashed });

    const inProgress = newEmail();
    usersDocs.set('00000000-0000-4000-8000-0000000000f1', {
      id: '00000000-0000-4000-8000-0000000000f1',
      email: inProgress,
      createdAt: Date.now(),
    });
    const refused = await call(IdentitySubjects.signup, {
      name: 'P',
      email: inProgress,
      password: 'password-1',
    });
    expect(refused.err).toMatchObject({
      code: 'CONFLICT',
      message: 'email: a user with this email already exists',
    });
    expect(usersDocs.has('00000000-0000-4000-8000-0000000000f1')).toBe(true);
  });

  it('provisions one address at a time: of concurrent signups of it, one account and one users-docs record', async () => {
    const email = newEmail();
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        call<AuthResult>(IdentitySubjects.signup, {
          name: `C${i}`,
          email,
          password: 'password-1',
          ip: `203.0.113.${i}`,
        }),
      ),
    );
    expect(replies.filter((r) => r.response).length).toBe(1);
    expect(replies.filter((r) => r.err).map((r) => r.err!.code)).toEqual(Array(4).fill('CONFLICT'));
    const records = [...usersDocs.values()].filter((u) => u.email === email);
    expect(records.map((r) => r.id)).toEqual([replies.find((r) => r.response)!.response!.user.id]);
  });

  it('limits signups per address: 429 with the seconds to wait once the attempts are used up, whatever the IP', async () => {
    const email = newEmail();
    // RATE_LIMIT_SIGNUP_ACCOUNT is 5/3600 here: the first signs up, the next four find the address taken.
    const answers: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      const reply = await call<AuthResult>(IdentitySubjects.signup, {
        name: 'R',
        email,
        password: 'password-1',
        ip: `198.51.100.${i + 1}`,
      });
      answers.push(reply.err?.code);
    }
    expect(answers).toEqual([undefined, 'CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT', 'RATE_LIMITED']);
    const limited = await call(IdentitySubjects.signup, {
      name: 'R',
      email: email.toUpperCase(),
      password: 'x'.repeat(10),
    });
    expect(limited.err).toMatchObject({
      code: 'RATE_LIMITED',
      details: { retryAfterSeconds: expect.any(Number) },
    });
  });

  it('limits signups per client IP: 429 with the seconds to wait once the attempts are used up; another IP is not affected', async () => {
    // RATE_LIMIT_SIGNUP_IP is 4/3600 here. 198.18.0.0/15: a range no other test uses.
    const ip = `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const signupFrom = (from: string) =>
      call<AuthResult>(IdentitySubjects.signup, {
        name: 'Ip',
        email: newEmail(),
        password: 'password-1',
        ip: from,
      });
    for (let i = 0; i < 4; i++) expect((await signupFrom(ip)).err).toBeUndefined();
    const limited = await signupFrom(ip);
    expect(limited.err).toMatchObject({
      code: 'RATE_LIMITED',
      details: { retryAfterSeconds: expect.any(Number) },
    });
    // The gateway sends it as `Retry-After` (HttpErrorFilter): the rest of the hour's window.
    const seconds = (limited.err!.details as { retryAfterSeconds: number }).retryAfterSeconds;
    expect(seconds).toBeGreaterThan(3500);
    expect(seconds).toBeLessThanOrEqual(3600);
    expect((await signupFrom('198.19.0.1')).err).toBeUndefined();
  });

  it('logout answers the session it ended (by refresh token too, and again after), never one of another user', async () => {
    const sid = (jwt: string) =>
      (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
    const email = newEmail();
    const made = await ok<AuthResult>(IdentitySubjects.signup, { name: 'Lo', email, password: 'password-1' });
    const userId = made.user.id;
    const other = await ok<AuthResult>(IdentitySubjects.login, { email, password: 'password-1' });
    const stranger = await ok<AuthResult>(IdentitySubjects.signup, {
      name: 'St',
      email: newEmail(),
      password: 'password-1',
    });
    const active = async (user: string, sessionId: string) =>
      (await ok<SessionCheckResult>(IdentitySubjects.sessionCheck, { userId: user, sessionId })).active;

    const byRefresh = { userId, refreshToken: made.refreshToken };
    expect(await ok<LogoutResult>(IdentitySubjects.logout, byRefresh)).toEqual({
      loggedOut: true,
      sessionId: sid(made.jwt),
    });
    expect(await active(userId, sid(made.jwt))).toBe(false);
    expect(await active(userId, sid(other.jwt))).toBe(true);
    // Ended before: the same id, so a gateway that still holds it forgets it.
    expect(await ok<LogoutResult>(IdentitySubjects.logout, byRefresh)).toEqual({
      loggedOut: true,
      sessionId: sid(made.jwt),
    });
    // Another user's refresh token ends nothing and names nothing.
    expect(
      await ok<LogoutResult>(IdentitySubjects.logout, { userId, refreshToken: stranger.refreshToken }),
    ).toEqual({ loggedOut: true });
    expect(await active(stranger.user.id, sid(stranger.jwt))).toBe(true);
    expect(await ok<LogoutResult>(IdentitySubjects.logout, { userId, sessionId: sid(other.jwt) })).toEqual({
      loggedOut: true,
      sessionId: sid(other.jwt),
    });
    expect(await active(userId, sid(other.jwt))).toBe(false);
  });

  it('keeps the birth date given at signup, and records the signup and each successful login in the audit log', async () => {
    const email = newEmail();
    const made = await ok<AuthResult>(IdentitySubjects.signup, {
      name: 'Bea',
      email,
      password: 'password-1',
      birth: '1990-04-01',
      ip: '192.0.2.7',
    });
    expect(made.user).toMatchObject({ email, birth: '1990-04-01' });
    const login = await ok<AuthResult>(IdentitySubjects.login, {
      email,
      password: 'password-1',
      ip: '192.0.2.8',
    });
    expect(login.user.birth).toBe('1990-04-01');
    const page = await ok<{ items: { type: string; ip?: string }[] }>(IdentitySubjects.auditList, {
      userId: made.user.id,
    });
    expect(page.items.map((e) => [e.type, e.ip])).toEqual(
      expect.arrayContaining([
        ['signup', '192.0.2.7'],
        ['login.succeeded', '192.0.2.8'],
      ]),
    );
  });

  it('limits logins per client IP: 429 with the seconds to wait; another IP is not affected', async () => {
    const email = newEmail();
    await ok(IdentitySubjects.signup, { name: 'Di', email, password: 'password-1' });
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    for (let i = 0; i < 3; i++) await ok(IdentitySubjects.login, { email, password: 'password-1', ip });
    const limited = await call(IdentitySubjects.login, { email, password: 'password-1', ip });
    expect(limited.err).toMatchObject({
      code: 'RATE_LIMITED',
      details: { retryAfterSeconds: expect.any(Number) },
    });
    const seconds = (limited.err!.details as { retryAfterSeconds: number }).retryAfterSeconds;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
    await ok(IdentitySubjects.login, { email, password: 'password-1', ip: '203.0.113.9' });
  });

  it('stores only hashes: no password, refresh token or personal access token in the database', async () => {
    const email = newEmail();
    const password = `secret-${randomBytes(8).toString('hex')}`;
    const result = await ok<AuthResult>(IdentitySubjects.signup, { name: 'Ed', email, password });
    const pat = await ok<{ token: string }>(IdentitySubjects.tokenCreate, {
      userId: result.user.id,
      name: 'ci',
      scopes: ['documents:read'],
    });
    const config = loadIdentityConfig({ DATABASE_URL: env.databaseUrl });
    const dataSource = await createServiceDataSource(identityDataSourceOptions(config)).initialize();
    try {
      const dump = JSON.stringify(
        await Promise.all(
          ['users', 'sessions', 'refresh_tokens', 'personal_access_tokens', 'audit_events', 'outbox'].map(
            (t) => dataSource.query(`SELECT * FROM identity.${t}`),
          ),
        ),
      );
      expect(dump).not.toContain(password);
      expect(dump).not.toContain(result.refreshToken);
      expect(dump).not.toContain(pat.token);
      expect(dump).toContain('$argon2id$v=19$m=19456,t=2,p=1$');
    } finally {
      await dataSource.destroy();
    }
  });

  it("records the key vault's events from KEY_VAULT_AUDIT once each, at their time; a team's in the team's log", async () => {
    const result = await ok<AuthResult>(IdentitySubjects.signup, {
      name: 'Fay',
      email: newEmail(),
      password: 'password-1',
    });
    const team = await ok<{ id: string }>(IdentitySubjects.teamCreate, {
      actorId: result.user.id,
      name: 'Keys',
    });
    // What the key vault publishes from its outbox (apps/key-vault: keys service and grants service).
    const keyId = randomUUID();
    const teamKeyId = randomUUID();
    const owner = { ownerType: 'user', ownerId: result.user.id };
    const teamOwner = { ownerType: 'team', ownerId: team.id };
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const events: KeyAuditRecordedEvent[] = [
      {
        eventId: randomUUID(),
        type: KeyAuditEvents.created,
        userId: result.user.id,
        targetId: keyId,
        details: { name: 'Personal OpenAI', provider: 'openai', ...owner },
        at: at(30),
      },
      {
        eventId: randomUUID(),
        type: KeyAuditEvents.used,
        userId: result.user.id,
        targetId: keyId,
        details: { jobId: randomUUID(), provider: 'openai', ...owner },
        at: at(20),
      },
      {
        eventId: randomUUID(),
        type: KeyAuditEvents.deleted,
        userId: result.user.id,
        targetId: keyId,
        details: { name: 'Personal OpenAI', provider: 'openai', ...owner },
        at: at(10),
      },
      // A team's key, used by a job the team asked for itself: no member's log, the team's only.
      {
        eventId: randomUUID(),
        type: KeyAuditEvents.used,
        teamId: team.id,
        targetId: teamKeyId,
        details: { jobId: randomUUID(), provider: 'openai', ...teamOwner },
        at: at(5),
      },
    ];
    const js = nc.jetstream();
    await ensureStream(nc, STREAMS.keyVaultAudit);
    let seq = 0;
    for (const event of events)
      seq = (
        await js.publish(KeyVaultAuditSubjects.recorded, JSON.stringify(event), { msgID: event.eventId })
      ).seq;
    // A repeat beyond the stream's duplicate window (another message id) and two that are not events: one row each
    // for the events, nothing for the others (terminated, not retried).
    seq = (
      await js.publish(KeyVaultAuditSubjects.recorded, JSON.stringify(events[0]), { msgID: randomUUID() })
    ).seq;
    seq = (
      await js.publish(
        KeyVaultAuditSubjects.recorded,
        JSON.stringify({ ...events[1], eventId: randomUUID(), type: 'key.stolen', secret: 'x' }),
      )
    ).seq;
    seq = (await js.publish(KeyVaultAuditSubjects.recorded, 'not json')).seq;
    await waitForConsumerAck(nc, KEY_VAULT_AUDIT_STREAM, KeyVaultAuditConsumers.identity, seq);

    const page = await ok<{ items: { id: string; type: string; at: string; teamId?: string }[] }>(
      IdentitySubjects.auditList,
      { userId: result.user.id },
    );
    // The owner reads them, newest first, at the time of the operation (not of the recording): after the signup
    // and the team made just now.
    expect(
      page.items
        .slice(0, 2)
        .map((e) => e.type)
        .sort(),
    ).toEqual(['signup', 'team.created']);
    expect(page.items.slice(2).map((e) => [e.id, e.type, e.at])).toEqual(
      events
        .slice(0, 3)
        .reverse()
        .map((e) => [e.eventId, e.type, e.at]),
    );
    const db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    try {
      const rows = await db.query('SELECT count(*)::int AS n FROM identity.audit_events WHERE id = $1', [
        events[0]!.eventId,
      ]);
      expect(rows.rows[0].n).toBe(1);
      const stolen = await db.query(
        "SELECT count(*)::int AS n FROM identity.audit_events WHERE type = 'key.stolen'",
      );
      expect(stolen.rows[0].n).toBe(0);
    } finally {
      await db.end();
    }
    // The team's log: its own events and its key's, whoever they concern, paged.
    const first = await ok<{
      items: { type: string; userId?: string; teamId?: string }[];
      nextCursor?: string;
    }>(IdentitySubjects.auditTeamList, { teamId: team.id, limit: 1 });
    expect(first.items).toEqual([
      expect.objectContaining({ type: 'team.created', teamId: team.id, userId: result.user.id }),
    ]);
    const rest = await ok<{ items: { type: string; userId?: string; teamId?: string }[] }>(
      IdentitySubjects.auditTeamList,
      { teamId: team.id, cursor: first.nextCursor },
    );
    expect(rest.items).toEqual([
      {
        id: events[3]!.eventId,
        type: 'key.used',
        teamId: team.id,
        targetId: teamKeyId,
        details: events[3]!.details,
        at: events[3]!.at,
      },
    ]);
  });

  it('identity.team.create-default makes one team per user, owned by them, and answers it again after', async () => {
    const user = await ok<AuthResult>(IdentitySubjects.signup, {
      name: 'Dee',
      email: newEmail(),
      password: 'password-1',
    });
    const request = { userId: user.user.id, name: "Dee's team" };
    // Two replicas (or a redelivered event) at once, then again later: always the same team.
    const [first, second] = await Promise.all([
      ok<CreateDefaultTeamReply>(IdentityTeamSubjects.createDefault, request),
      ok<CreateDefaultTeamReply>(IdentityTeamSubjects.createDefault, request),
    ]);
    expect(second).toEqual(first);
    expect(
      await ok<CreateDefaultTeamReply>(IdentityTeamSubjects.createDefault, {
        userId: user.user.id.toUpperCase(),
        name: 'Another name',
      }),
    ).toEqual(first);
    const teams = await ok<{ items: { id: string; name: string; role: string }[] }>(
      IdentitySubjects.teamList,
      {
        actorId: user.user.id,
      },
    );
    expect(teams.items).toEqual([
      expect.objectContaining({ id: first.teamId, name: "Dee's team", role: 'owner' }),
    ]);
    const audit = await ok<{ items: { type: string; targetId?: string }[] }>(IdentitySubjects.auditList, {
      userId: user.user.id,
    });
    expect(audit.items.filter((e) => e.type === 'team.created')).toEqual([
      expect.objectContaining({ targetId: first.teamId, details: { default: true } }),
    ]);

    expect((await call(IdentityTeamSubjects.createDefault, { userId: randomUUID(), name: 'x' })).err).toEqual(
      {
        code: 'NOT_FOUND',
        message: 'user not found',
      },
    );
    for (const [bad, field] of [
      [{ userId: 'nope', name: 'x' }, 'userId'],
      [{ userId: user.user.id, name: ' ' }, 'name'],
      [{ userId: user.user.id, name: 'x'.repeat(201) }, 'name'],
    ] as const) {
      const reply = await call(IdentityTeamSubjects.createDefault, bad);
      expect([reply.err?.code, (reply.err?.details as { field: string }[] | undefined)?.[0]?.field]).toEqual([
        'VALIDATION_FAILED',
        field,
      ]);
    }
  });

  it('teams: the last owner stays; non-members get NOT_FOUND; roles come from the matrix', async () => {
    const owner = await ok<AuthResult>(IdentitySubjects.signup, {
      name: 'O',
      email: newEmail(),
      password: 'password-1',
    });
    const reader = await ok<AuthResult>(IdentitySubjects.signup, {
      name: 'R',
      email: newEmail(),
      password: 'password-1',
    });
    const stranger = await ok<AuthResult>(IdentitySubjects.signup, {
      name: 'S',
      email: newEmail(),
      password: 'password-1',
    });
    const team = await ok<{ id: string }>(IdentitySubjects.teamCreate, { actorId: owner.user.id, name: 'T' });
    await ok(IdentitySubjects.memberAdd, {
      actorId: owner.user.id,
      teamId: team.id,
      userId: reader.user.id,
      role: 'reader',
    });
    const ref = (actor: AuthResult) => ({ actorId: actor.user.id, teamId: team.id });

    expect((await call(IdentitySubjects.memberList, ref(stranger))).err?.code).toBe('NOT_FOUND');
    expect((await call(IdentitySubjects.memberList, ref(reader))).err).toBeUndefined();
    expect(
      (await call(IdentitySubjects.memberAdd, { ...ref(reader), userId: stranger.user.id, role: 'reader' }))
        .err?.code,
    ).toBe('FORBIDDEN');
    expect(
      (await call(IdentitySubjects.memberAdd, { ...ref(owner), userId: reader.user.id, role: 'editor' })).err
        ?.code,
    ).toBe('CONFLICT');
    expect(
      (await call(IdentitySubjects.memberUpdate, { ...ref(owner), userId: owner.user.id, role: 'editor' }))
        .err?.code,
    ).toBe('CONFLICT');
    expect(
      (await call(IdentitySubjects.memberRemove, { ...ref(owner), userId: owner.user.id })).err?.code,
    ).toBe('CONFLICT');
    // A reader may leave on their own.
    expect(
      (await call(IdentitySubjects.memberRemove, { ...ref(reader), userId: reader.user.id })).err,
    ).toBeUndefined();
    expect(
      (await call(IdentitySubjects.membershipGet, { teamId: team.id, userId: reader.user.id })).err?.code,
    ).toBe('NOT_FOUND');
    expect(await ok(IdentitySubjects.membershipGet, { teamId: team.id, userId: owner.user.id })).toEqual({
      teamId: team.id,
      userId: owner.user.id,
      role: 'owner',
    });
  });

  /** Every event on the stream for `subject` so far. */
  async function eventsOn<T>(subject: string): Promise<T[]> {
    await waitFor(() => app.get(OutboxRelay).flushed(), { description: 'the outbox to be published' });
    const jsm = await nc.jetstreamManager();
    const sub = await nc.jetstream().subscribe(subject, consumerOpts().orderedConsumer());
    const seen: T[] = [];
    const pending = (await jsm.streams.info(IDENTITY_EVENTS_STREAM, { subjects_filter: subject })).state;
    const total = Object.values((pending as { subjects?: Record<string, number> }).subjects ?? {}).reduce(
      (a, b) => a + b,
      0,
    );
    if (total > 0) {
      for await (const m of sub) {
        seen.push(m.json<T>());
        if (seen.length >= total) break;
      }
    }
    sub.unsubscribe();
    return seen;
  }

  /** Waits until some transaction waits for a lock (the one `client` holds, in these tests). */
  const someoneWaitsForALock = (client: Client, description: string) =>
    waitFor(
      async () =>
        (await client.query('SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted')).rows[0].n > 0,
      { description },
    );

  const signup = (name: string) =>
    ok<AuthResult>(IdentitySubjects.signup, { name, email: newEmail(), password: 'password-1' });

  it('deletes a team for its owner only, and publishes identity.team.deleted with it', async () => {
    const owner = await signup('O');
    const editor = await signup('E');
    const team = await ok<{ id: string }>(IdentitySubjects.teamCreate, { actorId: owner.user.id, name: 'T' });
    await ok(IdentitySubjects.memberAdd, {
      actorId: owner.user.id,
      teamId: team.id,
      userId: editor.user.id,
      role: 'editor',
    });
    const stranger = await signup('S');

    expect(
      (await call(IdentitySubjects.teamDelete, { actorId: stranger.user.id, teamId: team.id })).err?.code,
    ).toBe('NOT_FOUND');
    expect(
      (await call(IdentitySubjects.teamDelete, { actorId: editor.user.id, teamId: team.id })).err?.code,
    ).toBe('FORBIDDEN');
    expect(await ok(IdentitySubjects.teamDelete, { actorId: owner.user.id, teamId: team.id })).toEqual({
      deleted: true,
    });
    expect(
      (await call(IdentitySubjects.membershipGet, { teamId: team.id, userId: editor.user.id })).err?.code,
    ).toBe('NOT_FOUND');
    expect(
      (await call(IdentitySubjects.teamDelete, { actorId: owner.user.id, teamId: team.id })).err?.code,
    ).toBe('NOT_FOUND');
    const events = await eventsOn<TeamDeletedEvent>(IdentityEventSubjects.teamDeleted);
    expect(events.filter((e) => e.teamId === team.id)).toEqual([
      { eventId: expect.any(String), teamId: team.id, deletedAt: expect.any(String) },
    ]);
  });

  it('account deletion: refused while the only owner of a team with others; takes the teams nobody else is in; publishes identity.user.deleted', async () => {
    const ann = await signup('Ann');
    const bob = await signup('Bob');
    const shared = await ok<{ id: string }>(IdentitySubjects.teamCreate, {
      actorId: ann.user.id,
      name: 'Shared',
    });
    const alone = await ok<{ id: string }>(IdentitySubjects.teamCreate, {
      actorId: ann.user.id,
      name: 'Alone',
    });
    await ok(IdentitySubjects.memberAdd, {
      actorId: ann.user.id,
      teamId: shared.id,
      userId: bob.user.id,
      role: 'reader',
    });

    const refused = await call(IdentitySubjects.userDelete, { userId: ann.user.id, actorId: ann.user.id });
    expect(refused.err?.code).toBe('CONFLICT');
    expect(refused.err?.details).toEqual([
      { field: 'teams', message: `the only owner of team ${shared.id}` },
    ]);
    // Nothing was deleted: not the documents, not the account.
    expect(usersDocs.has(ann.user.id)).toBe(true);
    expect(await ok(IdentitySubjects.userGet, { userId: ann.user.id })).toMatchObject({ id: ann.user.id });

    // Once Bob owns the shared team too, Ann may go: her team of one goes with her, Bob keeps the shared one.
    await ok(IdentitySubjects.memberUpdate, {
      actorId: ann.user.id,
      teamId: shared.id,
      userId: bob.user.id,
      role: 'owner',
    });
    expect(await ok(IdentitySubjects.userDelete, { userId: ann.user.id, actorId: ann.user.id })).toEqual({
      deleted: true,
    });
    expect(usersDocs.has(ann.user.id)).toBe(false);
    expect((await call(IdentitySubjects.userGet, { userId: ann.user.id })).err?.code).toBe('NOT_FOUND');
    expect(
      await ok(IdentitySubjects.membershipGet, { teamId: shared.id, userId: bob.user.id }),
    ).toMatchObject({
      role: 'owner',
    });
    const teamEvents = await eventsOn<TeamDeletedEvent>(IdentityEventSubjects.teamDeleted);
    expect(teamEvents.map((e) => e.teamId)).toContain(alone.id);
    expect(teamEvents.map((e) => e.teamId)).not.toContain(shared.id);
    const userEvents = await eventsOn<UserDeletedEvent>(IdentityEventSubjects.userDeleted);
    expect(userEvents.filter((e) => e.userId === ann.user.id)).toHaveLength(1);

    // Deleting again changes nothing and publishes nothing more.
    expect(
      (await call(IdentitySubjects.userDelete, { userId: ann.user.id, actorId: ann.user.id })).err?.code,
    ).toBe('NOT_FOUND');
    expect(
      (await eventsOn<UserDeletedEvent>(IdentityEventSubjects.userDeleted)).filter(
        (e) => e.userId === ann.user.id,
      ),
    ).toHaveLength(1);
  });

  it('account deletion counts the members a concurrent change left, not those before it (lock first, count second)', async () => {
    const ann = await signup('Ann');
    const bob = await signup('Bob');
    const team = await ok<{ id: string }>(IdentitySubjects.teamCreate, {
      actorId: ann.user.id,
      name: 'Race',
    });
    await ok(IdentitySubjects.memberAdd, {
      actorId: ann.user.id,
      teamId: team.id,
      userId: bob.user.id,
      role: 'editor',
    });
    // Bob leaves in a transaction that holds the team's lock while Ann's deletion starts.
    const client = new Client({ connectionString: env.databaseUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT id FROM identity.teams WHERE id = $1 FOR UPDATE', [team.id]);
      await client.query('DELETE FROM identity.team_members WHERE team_id = $1 AND user_id = $2', [
        team.id,
        bob.user.id,
      ]);
      const deleting = call(IdentitySubjects.userDelete, { userId: ann.user.id, actorId: ann.user.id });
      await someoneWaitsForALock(client, 'the deletion to wait for the team lock');
      await client.query('COMMIT');
      // Ann is now the team's only member: not refused, and the team goes with her.
      expect((await deleting).err).toBeUndefined();
      expect(
        (await client.query('SELECT count(*)::int AS n FROM identity.teams WHERE id = $1', [team.id])).rows[0]
          .n,
      ).toBe(0);
    } finally {
      await client.end();
    }
    const events = await eventsOn<TeamDeletedEvent>(IdentityEventSubjects.teamDeleted);
    expect(events.map((e) => e.teamId)).toContain(team.id);
  });

  it('a team made for a user whose account is being deleted waits, then answers NOT_FOUND and leaves nothing', async () => {
    const gone = await signup('Gone');
    const client = new Client({ connectionString: env.databaseUrl });
    await client.connect();
    try {
      // The deletion holds the account row (as accounts.delete does) and removes it.
      await client.query('BEGIN');
      await client.query('SELECT id FROM identity.users WHERE id = $1 FOR UPDATE', [gone.user.id]);
      await client.query('DELETE FROM identity.users WHERE id = $1', [gone.user.id]);
      const creating = call(IdentitySubjects.teamCreate, { actorId: gone.user.id, name: 'Late' });
      await someoneWaitsForALock(client, 'the team creation to wait for the account row');
      await client.query('COMMIT');
      expect((await creating).err).toMatchObject({ code: 'NOT_FOUND', message: 'user not found' });
      expect(
        (await client.query("SELECT count(*)::int AS n FROM identity.teams WHERE name = 'Late'")).rows[0].n,
      ).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('an admin deleting the only owner of a team makes the next member (highest role, then longest there) owner', async () => {
    const admin = await signup('Admin');
    const owner = await signup('Owner');
    const reader = await signup('Reader');
    const editor = await signup('Editor');
    const team = await ok<{ id: string }>(IdentitySubjects.teamCreate, { actorId: owner.user.id, name: 'T' });
    for (const [member, role] of [
      [reader, 'reader'],
      [editor, 'editor'],
    ] as const) {
      await ok(IdentitySubjects.memberAdd, {
        actorId: owner.user.id,
        teamId: team.id,
        userId: member.user.id,
        role,
      });
    }
    await ok(IdentitySubjects.userDelete, { userId: owner.user.id, actorId: admin.user.id });
    expect(
      await ok(IdentitySubjects.membershipGet, { teamId: team.id, userId: editor.user.id }),
    ).toMatchObject({
      role: 'owner',
    });
    expect(
      await ok(IdentitySubjects.membershipGet, { teamId: team.id, userId: reader.user.id }),
    ).toMatchObject({
      role: 'reader',
    });
  });
});
