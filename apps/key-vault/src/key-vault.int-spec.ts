// key-vault on the real PostgreSQL and NATS, driven over NATS the way the gateway and the jobs service do.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import { connect, type NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import {
  AUDIT_EVENT_TYPES,
  IdentitySubjects,
  KeyVaultAuditSubjects,
  KeyVaultSubjects,
  QueueGroups,
  type ApiKeyPage,
  type ApiKeySummary,
  type KeyAuditRecordedEvent,
  type KeyOwner,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import { createTestEnvironment, waitFor, type TestEnvironment } from '@docflow/local-platform';
import { PinoNestLogger, createLogger } from '@docflow/observability';
import { RequestContextInterceptor, RpcErrorFilter } from '@docflow/messaging';
import { Clock } from './common/clock';
import { loadKeyVaultConfig, type KeyVaultConfig } from './config';
import { EnvelopeCipher, apiKeyContext } from './crypto/envelope';
import { LocalKeyProvider, type MasterKey } from './crypto/key-provider';
import { keyVaultDataSourceOptions } from './data-source.options';
import { KeyVaultModule } from './key-vault.module';
import { ApiKeyEntity } from './keys/api-key.entity';
import { DataKeyEntity } from './keys/data-key.entity';
import { DataKeysRepository } from './keys/data-keys.repository';
import { MasterKeyRotationsRepository } from './rotation/master-key-rotations.repository';
import { RotateMasterKeyUseCase, RotationPreconditionError } from './rotation/rotate-master-key.usecase';
import { FixedClock } from './testing/fakes';

type Reply<T> = { response?: T; err?: { code: string; message: string; details?: unknown } };

const newOwner = (ownerType: KeyOwner['ownerType'] = 'user'): KeyOwner => ({
  ownerType,
  ownerId: randomUUID(),
});
const newSecret = () => `sk-proj-${randomBytes(24).toString('hex')}`;

describe('key-vault over NATS', () => {
  let env: TestEnvironment;
  let config: KeyVaultConfig;
  let app: INestMicroservice;
  let nc: NatsConnection;
  let db: DataSource;
  const clock = new FixedClock(new Date());
  const m1: MasterKey = { id: 'm1', key: randomBytes(32) };
  const logLines: string[] = [];
  /** Team memberships as identity answers `identity.membership.get` (teamId → userId → role). */
  const memberships = new Map<string, Map<string, string>>();
  /** What the vault published for identity's audit log (KEY_VAULT_AUDIT, seen by a plain subscriber). */
  const audit: KeyAuditRecordedEvent[] = [];
  const secrets: string[] = [];

  async function call<T>(subject: string, data: unknown): Promise<Reply<T>> {
    const msg = await nc.request(subject, JSON.stringify({ pattern: subject, data, id: randomUUID() }), {
      timeout: 5_000,
    });
    return JSON.parse(new TextDecoder().decode(msg.data)) as Reply<T>;
  }

  async function store(owner: KeyOwner, name = `key ${randomUUID()}`, key = newSecret()) {
    secrets.push(key);
    clock.advance(1); // distinct creation times, so "newest first" is well defined
    const out = await call<ApiKeySummary>(KeyVaultSubjects.keyCreate, {
      ...owner,
      actorUserId: owner.ownerType === 'user' ? owner.ownerId : randomUUID(),
      name,
      provider: 'openai',
      key,
    });
    expect(out.err).toBeUndefined();
    return { ...out.response!, key };
  }

  async function startVault(provider: LocalKeyProvider): Promise<INestMicroservice> {
    const destination = new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    const vault = await NestFactory.createMicroservice(
      KeyVaultModule.forRoot(config, { keyProvider: provider, clock }),
      {
        transport: Transport.NATS,
        options: { servers: [env.natsUrl], queue: QueueGroups.keyVault },
        logger: new PinoNestLogger(createLogger({ service: 'key-vault', level: 'trace', destination })),
      },
    );
    vault.useGlobalFilters(new RpcErrorFilter());
    vault.useGlobalInterceptors(new RequestContextInterceptor());
    await vault.listen();
    return vault;
  }

  beforeAll(async () => {
    env = await createTestEnvironment('keyvault');
    config = loadKeyVaultConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      MASTER_KEY: m1.key.toString('base64'),
      MASTER_KEY_ID: m1.id,
    });
    db = createServiceDataSource(keyVaultDataSourceOptions(config));
    await runMigrations(db);
    nc = await connect({ servers: env.natsUrl });
    nc.subscribe(KeyVaultAuditSubjects.recorded, {
      callback: (_err, msg) =>
        audit.push(JSON.parse(new TextDecoder().decode(msg.data)) as KeyAuditRecordedEvent),
    });
    nc.subscribe(IdentitySubjects.membershipGet, {
      callback: (_err, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data)) as {
          id: string;
          data: { teamId: string; userId: string };
        };
        const role = memberships.get(packet.data.teamId)?.get(packet.data.userId);
        msg.respond(
          JSON.stringify(
            role
              ? { id: packet.id, response: { ...packet.data, role }, isDisposed: true }
              : { id: packet.id, err: { code: 'NOT_FOUND', message: 'team not found' }, isDisposed: true },
          ),
        );
      },
    });
    await nc.flush();
    app = await startVault(new LocalKeyProvider(m1));
  });

  afterAll(async () => {
    await nc?.close();
    await app?.close();
    if (db?.isInitialized) await db.destroy();
    await env?.close();
  });

  afterAll(() => {
    // Whatever happened above, no stored key's text was ever logged.
    const logs = logLines.join('');
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });

  it('has migrations that match the entities exactly (no schema drift)', async () => {
    const pending = await db.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    expect(await db.showMigrations()).toBe(false);
  });

  it('stores a key sealed, answers only its summary, and records the event without the secret', async () => {
    const owner = newOwner();
    const key = newSecret();
    secrets.push(key);
    const out = await call<ApiKeySummary>(KeyVaultSubjects.keyCreate, {
      ...owner,
      actorUserId: owner.ownerId,
      name: '  Personal OpenAI  ',
      provider: 'openai',
      key,
    });
    expect(out.response).toEqual({
      id: expect.any(String),
      name: 'Personal OpenAI',
      provider: 'openai',
      last4: key.slice(-4),
      createdAt: expect.any(String),
    });
    const row = await db.getRepository(ApiKeyEntity).findOneByOrFail({ id: out.response!.id });
    expect(row.ciphertext.toString('latin1')).not.toContain(key);
    expect(JSON.stringify(row)).not.toContain(key);
    const dataKey = await db.getRepository(DataKeyEntity).findOneByOrFail({ id: row.dataKeyId });
    expect(dataKey).toMatchObject({ ...owner, masterKeyId: 'm1' });

    await waitFor(() => audit.some((a) => a.targetId === out.response!.id));
    expect(audit.find((a) => a.targetId === out.response!.id)).toEqual({
      eventId: expect.any(String),
      at: clock.now().toISOString(),
      userId: owner.ownerId,
      type: 'key.created',
      targetId: out.response!.id,
      details: { name: 'Personal OpenAI', provider: 'openai', ...owner },
    });
    // A team's key: in the log of the member who stored it, and in the team's.
    const team = newOwner('team');
    const member = randomUUID();
    const teamSecret = newSecret();
    secrets.push(teamSecret);
    const teamKey = await call<ApiKeySummary>(KeyVaultSubjects.keyCreate, {
      ...team,
      actorUserId: member,
      name: 'Team OpenAI',
      provider: 'openai',
      key: teamSecret,
    });
    await waitFor(() => audit.some((a) => a.targetId === teamKey.response!.id));
    expect(audit.find((a) => a.targetId === teamKey.response!.id)).toEqual({
      eventId: expect.any(String),
      at: clock.now().toISOString(),
      userId: member,
      teamId: team.ownerId,
      type: 'key.created',
      targetId: teamKey.response!.id,
      details: { name: 'Team OpenAI', provider: 'openai', ...team },
    });
    expect(audit.every((a) => (AUDIT_EVENT_TYPES as readonly string[]).includes(a.type))).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  it("lists an owner's keys newest first, page by page, with no secret and nothing of other owners", async () => {
    const owner = newOwner();
    const team = newOwner('team');
    const stored = [await store(owner, 'a'), await store(owner, 'b'), await store(owner, 'c')];
    await store(team, 'a');
    await store(newOwner(), 'a');

    const first = await call<ApiKeyPage>(KeyVaultSubjects.keyList, { ...owner, limit: 2 });
    expect(first.response!.items.map((k) => k.name)).toEqual(['c', 'b']);
    const second = await call<ApiKeyPage>(KeyVaultSubjects.keyList, {
      ...owner,
      limit: 2,
      cursor: first.response!.nextCursor,
    });
    expect(second.response).toEqual({ items: [expect.objectContaining({ name: 'a' })] });
    for (const item of [...first.response!.items, ...second.response!.items]) {
      expect(Object.keys(item).sort()).toEqual(['createdAt', 'id', 'last4', 'name', 'provider']);
    }
    const listed = JSON.stringify([first, second]);
    for (const { key } of stored) expect(listed).not.toContain(key);

    const teamList = await call<ApiKeyPage>(KeyVaultSubjects.keyList, team);
    expect(teamList.response!.items).toEqual([expect.objectContaining({ name: 'a', teamId: team.ownerId })]);
  });

  it('names the field of every invalid input, never echoing the key', async () => {
    const owner = newOwner();
    const base = { ...owner, actorUserId: owner.ownerId, name: 'n', provider: 'openai', key: newSecret() };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ provider: 'openia' }, 'provider', 'must be one of openai, anthropic'],
      [{ key: 'short' }, 'key', 'must be 16 to 512 characters long'],
      [{ key: 'x'.repeat(513) }, 'key', 'must be 16 to 512 characters long'],
      [{ key: 'sk-with a space-0123456789' }, 'key', 'must be printable ASCII'],
      [{ name: '   ' }, 'name', 'must not be blank'],
      [{ name: 'n'.repeat(101) }, 'name', 'must be at most 100 characters'],
      [{ ownerType: 'org' }, 'ownerType', 'must be one of user, team'],
      [{ ownerId: 'me' }, 'ownerId', 'must be a UUID'],
    ];
    for (const [patch, field, message] of cases) {
      const out = await call(KeyVaultSubjects.keyCreate, { ...base, ...patch });
      expect(out.err).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field }] });
      expect(out.err!.message).toContain(message);
      expect(JSON.stringify(out)).not.toContain(String(patch.key ?? base.key));
    }
    await store(owner, 'dup');
    const events = () =>
      db.query(`SELECT count(*)::int AS n FROM key_vault.outbox WHERE payload->'details'->>'ownerId' = $1`, [
        owner.ownerId,
      ]) as Promise<{ n: number }[]>;
    const before = (await events())[0]!.n;
    const dup = await call(KeyVaultSubjects.keyCreate, { ...base, name: 'dup' });
    expect(dup.err).toMatchObject({ code: 'CONFLICT', details: [{ field: 'name' }] });
    // The refused key left no audit event: the event is written in the key's transaction, rolled back with it.
    expect(before).toBe(1);
    expect((await events())[0]!.n).toBe(1);
  });

  it("answers NOT_FOUND for another owner's key and deletes nothing of theirs", async () => {
    const alice = newOwner();
    const bob = newOwner();
    const key = await store(alice);
    const asBob = await call(KeyVaultSubjects.keyDelete, { ...bob, actorUserId: bob.ownerId, keyId: key.id });
    expect(asBob.err).toEqual({ code: 'NOT_FOUND', message: 'api key not found' });
    // The same id as a team owner is another owner too.
    const asTeam = await call(KeyVaultSubjects.keyDelete, {
      ownerType: 'team',
      ownerId: alice.ownerId,
      actorUserId: alice.ownerId,
      keyId: key.id,
    });
    expect(asTeam.err?.code).toBe('NOT_FOUND');
    expect((await call<ApiKeyPage>(KeyVaultSubjects.keyList, alice)).response!.items).toHaveLength(1);

    const grant = await call(KeyVaultSubjects.grantCreate, {
      ...bob,
      jobId: randomUUID(),
      keyId: key.id,
      expiresAt: new Date(clock.now().getTime() + 60_000).toISOString(),
    });
    expect(grant.err).toEqual({ code: 'NOT_FOUND', message: 'api key not found' });

    const mine = await call(KeyVaultSubjects.keyDelete, {
      ...alice,
      actorUserId: alice.ownerId,
      keyId: key.id,
    });
    expect(mine.response).toEqual({ deleted: true });
    expect((await call<ApiKeyPage>(KeyVaultSubjects.keyList, alice)).response!.items).toEqual([]);
    await waitFor(() => audit.some((a) => a.type === 'key.deleted' && a.targetId === key.id));
    expect(audit.find((a) => a.type === 'key.deleted' && a.targetId === key.id)).toEqual({
      eventId: expect.any(String),
      at: expect.any(String),
      userId: alice.ownerId,
      type: 'key.deleted',
      targetId: key.id,
      details: { name: key.name, provider: 'openai', ...alice },
    });
  });

  describe('grants', () => {
    const expiresIn = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();

    it('hands the plaintext to a job only while its grant is live, and records each use', async () => {
      const owner = newOwner();
      const key = await store(owner);
      const jobId = randomUUID();
      const before = await call(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: key.id });
      expect(before.err).toEqual({ code: 'NOT_FOUND', message: 'grant not found' });

      const grant = await call(KeyVaultSubjects.grantCreate, {
        ...owner,
        jobId,
        keyId: key.id,
        expiresAt: expiresIn(60_000),
      });
      expect(grant.response).toEqual({
        jobId,
        keyId: key.id,
        provider: 'openai',
        expiresAt: expiresIn(60_000),
      });

      const resolved = await call(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: key.id });
      expect(resolved.response).toEqual({ keyId: key.id, provider: 'openai', key: key.key });
      const otherJob = await call(KeyVaultSubjects.keyResolveForJob, { jobId: randomUUID(), keyId: key.id });
      expect(otherJob.err?.code).toBe('NOT_FOUND');

      await waitFor(() => audit.some((a) => a.type === 'key.used' && a.details?.jobId === jobId));
      expect(audit.find((a) => a.type === 'key.used' && a.details?.jobId === jobId)).toEqual({
        eventId: expect.any(String),
        at: expect.any(String),
        userId: owner.ownerId,
        type: 'key.used',
        targetId: key.id,
        details: { jobId, provider: 'openai', ...owner },
      });

      expect((await call(KeyVaultSubjects.grantRevoke, { jobId })).response).toEqual({ revoked: 1 });
      expect((await call(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: key.id })).err?.code).toBe(
        'NOT_FOUND',
      );
      // A revoked grant stays revoked: the ended job cannot have it back.
      const again = await call(KeyVaultSubjects.grantCreate, {
        ...owner,
        jobId,
        keyId: key.id,
        expiresAt: expiresIn(60_000),
      });
      expect(again.err?.code).toBe('CONFLICT');
      expect((await call(KeyVaultSubjects.grantRevoke, { jobId })).response).toEqual({ revoked: 0 });
    });

    it("grants a user's job a team key when their role allows apikey.use: owner and editor yes, reader 403, non-member 404", async () => {
      const team = newOwner('team');
      const key = await store(team);
      const roles = new Map<string, string>();
      memberships.set(team.ownerId, roles);
      const member = (role: string) => {
        const user = newOwner();
        roles.set(user.ownerId, role);
        return user;
      };
      const grantFor = (user: KeyOwner, jobId = randomUUID()) =>
        call(KeyVaultSubjects.grantCreate, { ...user, jobId, keyId: key.id, expiresAt: expiresIn(60_000) });

      for (const role of ['owner', 'editor']) {
        const out = await grantFor(member(role));
        expect(out.err).toBeUndefined();
      }
      for (const role of ['reader', 'consumer']) {
        const out = await grantFor(member(role));
        expect(out.err).toMatchObject({
          code: 'FORBIDDEN',
          details: [
            { field: 'keyId', message: `your role (${role}) in the key's team may not use its keys` },
          ],
        });
      }
      expect((await grantFor(newOwner())).err).toEqual({ code: 'NOT_FOUND', message: 'api key not found' });

      // The job's step gets it, and its use goes to the audit log of the member whose job it is, and the team's.
      const editor = member('editor');
      const jobId = randomUUID();
      expect((await grantFor(editor, jobId)).err).toBeUndefined();
      const resolved = await call(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: key.id });
      expect(resolved.response).toEqual({ keyId: key.id, provider: 'openai', key: key.key });
      await waitFor(() => audit.some((a) => a.type === 'key.used' && a.details?.jobId === jobId));
      expect(audit.find((a) => a.type === 'key.used' && a.details?.jobId === jobId)).toEqual({
        eventId: expect.any(String),
        at: expect.any(String),
        userId: editor.ownerId,
        teamId: team.ownerId,
        type: 'key.used',
        targetId: key.id,
        details: { jobId, provider: 'openai', ...team },
      });

      // Made reader (or removed) while the job runs: the job's step no longer gets the key, and the grant is gone.
      roles.set(editor.ownerId, 'reader');
      expect((await call(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: key.id })).err).toEqual({
        code: 'NOT_FOUND',
        message: 'grant not found',
      });
      roles.set(editor.ownerId, 'editor');
      expect((await call(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: key.id })).err?.code).toBe(
        'NOT_FOUND',
      );
      const other = member('editor');
      const otherJob = randomUUID();
      expect((await grantFor(other, otherJob)).err).toBeUndefined();
      roles.delete(other.ownerId);
      expect(
        (await call(KeyVaultSubjects.keyResolveForJob, { jobId: otherJob, keyId: key.id })).err?.code,
      ).toBe('NOT_FOUND');
    });

    it('stops working when the grant expires, and when the key is deleted', async () => {
      const owner = newOwner('team');
      const key = await store(owner);
      const jobId = randomUUID();
      await call(KeyVaultSubjects.grantCreate, {
        ...owner,
        jobId,
        keyId: key.id,
        expiresAt: expiresIn(1_000),
      });
      expect(
        (await call(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: key.id })).response,
      ).toBeDefined();
      clock.advance(1_000);
      expect((await call(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: key.id })).err?.code).toBe(
        'NOT_FOUND',
      );

      const other = await store(owner);
      const job2 = randomUUID();
      await call(KeyVaultSubjects.grantCreate, {
        ...owner,
        jobId: job2,
        keyId: other.id,
        expiresAt: expiresIn(60_000),
      });
      await call(KeyVaultSubjects.keyDelete, { ...owner, actorUserId: randomUUID(), keyId: other.id });
      expect(
        (await call(KeyVaultSubjects.keyResolveForJob, { jobId: job2, keyId: other.id })).err?.code,
      ).toBe('NOT_FOUND');
    });

    it('refuses an expiry in the past, too far away or not a time', async () => {
      const owner = newOwner();
      const key = await store(owner);
      for (const expiresAt of [expiresIn(-1), expiresIn(8 * 24 * 3600 * 1000), 'tomorrow']) {
        const out = await call(KeyVaultSubjects.grantCreate, {
          ...owner,
          jobId: randomUUID(),
          keyId: key.id,
          expiresAt,
        });
        expect(out.err).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'expiresAt' }] });
      }
    });

    it('refuses a ciphertext moved to another row, or a data key moved to another owner (INTERNAL, nothing leaks)', async () => {
      const owner = newOwner();
      const [a, b] = [await store(owner), await store(owner)];
      const jobId = randomUUID();
      for (const k of [a, b])
        await call(KeyVaultSubjects.grantCreate, {
          ...owner,
          jobId,
          keyId: k.id,
          expiresAt: expiresIn(60_000),
        });
      const keys = db.getRepository(ApiKeyEntity);
      const rowB = await keys.findOneByOrFail({ id: b.id });
      // Someone with write access to the table copies b's sealed bytes over a's: same owner, same data key.
      await keys.update({ id: a.id }, { iv: rowB.iv, ciphertext: rowB.ciphertext, authTag: rowB.authTag });
      const swapped = await call(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: a.id });
      expect(swapped.err).toEqual({ code: 'INTERNAL', message: 'Internal error' });

      const victim = newOwner();
      const v = await store(victim);
      const dataKeys = db.getRepository(DataKeyEntity);
      const victimKey = await dataKeys.findOneByOrFail({ ownerId: victim.ownerId });
      const ownerKey = await dataKeys.findOneByOrFail({ ownerId: owner.ownerId });
      await dataKeys.update({ id: victimKey.id }, { wrappedKey: ownerKey.wrappedKey });
      await call(KeyVaultSubjects.grantCreate, {
        ...victim,
        jobId,
        keyId: v.id,
        expiresAt: expiresIn(60_000),
      });
      const moved = await call(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: v.id });
      expect(moved.err).toEqual({ code: 'INTERNAL', message: 'Internal error' });
      expect(JSON.stringify([swapped, moved])).not.toContain(b.key);
    });
  });

  describe('master key rotation', () => {
    const m2: MasterKey = { id: 'm2', key: randomBytes(32) };

    function rotation(provider: LocalKeyProvider) {
      return new RotateMasterKeyUseCase(
        new DataKeysRepository(db),
        new MasterKeyRotationsRepository(db),
        provider,
        new EnvelopeCipher(provider),
        new Clock(),
      );
    }

    /** Opens every stored key with `provider` alone, straight from the tables. */
    async function openAll(provider: LocalKeyProvider): Promise<Map<string, string>> {
      const cipher = new EnvelopeCipher(provider);
      const out = new Map<string, string>();
      const rows = await db.getRepository(ApiKeyEntity).find({ relations: { dataKey: true } });
      for (const row of rows) {
        const owner = { ownerType: row.ownerType, ownerId: row.ownerId };
        const dataKey = await cipher.unwrapDataKey(owner, {
          masterKeyId: row.dataKey!.masterKeyId,
          wrapped: row.dataKey!.wrappedKey,
        });
        out.set(
          row.id,
          cipher.open(
            dataKey,
            { iv: row.iv, ciphertext: row.ciphertext, tag: row.authTag },
            apiKeyContext(owner, row.id, row.dataKeyId),
          ),
        );
      }
      return out;
    }

    it('refuses to start without the retiring master key configured', async () => {
      await store(newOwner());
      await expect(rotation(new LocalKeyProvider(m2)).execute()).rejects.toThrow(RotationPreconditionError);
    });

    it('re-wraps every data key in resumable batches; afterwards only the new master key is needed', async () => {
      // Remove the rows the tampering test broke: they can no longer be re-wrapped, by design.
      await db.query(`DELETE FROM key_vault.api_keys; DELETE FROM key_vault.data_keys`);
      const stored = [];
      for (let i = 0; i < 5; i++) stored.push(await store(newOwner(i % 2 ? 'team' : 'user')));
      const expected = new Map(stored.map((s) => [s.id, s.key]));
      expect(await openAll(new LocalKeyProvider(m1))).toEqual(expected);
      await expect(openAll(new LocalKeyProvider(m2))).rejects.toThrow('master key m1 is not configured');

      const during = new LocalKeyProvider(m2, [m1]);
      // The first run stops after its second batch (a crash, a Ctrl-C).
      const interrupted = rotation(during).execute({
        batchSize: 2,
        afterBatch: (done) => {
          if (done >= 4) throw new Error('interrupted');
        },
      });
      await expect(interrupted).rejects.toThrow('interrupted');
      const counts = await new DataKeysRepository(db).countByMasterKey();
      expect(counts).toEqual({ m1: 1, m2: 4 });
      // Half-way, every key still opens with the two keys configured.
      expect(await openAll(during)).toEqual(expected);

      const resumed = await rotation(during).execute({ batchSize: 2 });
      expect(resumed).toMatchObject({
        toMasterKeyId: 'm2',
        fromMasterKeyIds: ['m1'],
        rewrapped: 5,
        dataKeysByMasterKey: { m2: 5 },
        resumed: true,
      });
      expect(await openAll(new LocalKeyProvider(m2))).toEqual(expected);
      await expect(openAll(new LocalKeyProvider(m1))).rejects.toThrow('master key m2 is not configured');

      // The service restarted with the new key alone serves the keys, and a second rotation has nothing to do.
      await app.close();
      app = await startVault(new LocalKeyProvider(m2));
      const jobId = randomUUID();
      const [first] = stored;
      const owner = await db.getRepository(ApiKeyEntity).findOneByOrFail({ id: first!.id });
      await call(KeyVaultSubjects.grantCreate, {
        ownerType: owner.ownerType,
        ownerId: owner.ownerId,
        jobId,
        keyId: first!.id,
        expiresAt: new Date(clock.now().getTime() + 60_000).toISOString(),
      });
      expect(
        (await call<{ key: string }>(KeyVaultSubjects.keyResolveForJob, { jobId, keyId: first!.id })).response
          ?.key,
      ).toBe(first!.key);
      expect(await rotation(new LocalKeyProvider(m2)).execute()).toMatchObject({
        rewrapped: 0,
        resumed: false,
      });
    });

    const cli = resolve(__dirname, '../dist/rotate-master-key.js');
    (existsSync(cli) ? it : it.skip)(
      'runs as `node apps/key-vault/dist/rotate-master-key.js` (built)',
      async () => {
        const m3 = randomBytes(32).toString('base64');
        const run = promisify(execFile);
        const envFor = (extra: Record<string, string>) => ({
          ...process.env,
          DATABASE_URL: env.databaseUrl,
          LOG_LEVEL: 'warn',
          ...extra,
        });
        const rotated = await run(process.execPath, [cli, '--batch-size', '3'], {
          env: envFor({
            MASTER_KEY: m3,
            MASTER_KEY_ID: 'm3',
            MASTER_KEY_PREVIOUS: m2.key.toString('base64'),
            MASTER_KEY_PREVIOUS_ID: 'm2',
          }),
        });
        expect(JSON.parse(rotated.stdout)).toMatchObject({ toMasterKeyId: 'm3', fromMasterKeyIds: ['m2'] });
        const status = await run(process.execPath, [cli, '--status'], {
          env: envFor({ MASTER_KEY: m3, MASTER_KEY_ID: 'm3' }),
        });
        expect(JSON.parse(status.stdout)).toMatchObject({
          activeMasterKeyId: 'm3',
          dataKeysByMasterKey: { m3: expect.any(Number) },
        });
        expect(Object.keys(JSON.parse(status.stdout).dataKeysByMasterKey)).toEqual(['m3']);
        const refused = await run(process.execPath, [cli], {
          env: envFor({ MASTER_KEY: randomBytes(32).toString('base64'), MASTER_KEY_ID: 'm4' }),
        }).catch((error: { code: number; stderr: string }) => error);
        expect(refused).toMatchObject({
          code: 1,
          stderr: expect.stringContaining('m3, which are not configured'),
        });
      },
    );
  });
});
