import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './api-client';
import { CredentialStore, type SavedSession } from './credential-store';
import { SessionCredentials, type AuthResult } from './credentials';
import { ExitCode } from './errors';
import { FakeApi, apiError, send } from './testing/fake-api';

const USER = { id: '11111111-1111-4111-8111-111111111111', email: 'ada@example.com' };

function session(n: number, expiresInMs: number): SavedSession {
  return {
    accessToken: `jwt-${n}`,
    refreshToken: `dfr_${n}`,
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    user: USER,
  };
}

describe(SessionCredentials.name, () => {
  let api: FakeApi;
  let dir: string;
  let file: string;
  /** Like identity: each refresh token works once; a used one coming back ends the session (401 from then on). */
  let revoked: boolean;

  beforeEach(async () => {
    api = new FakeApi();
    await api.start();
    dir = mkdtempSync(join(tmpdir(), 'docflow-credentials-spec-'));
    file = join(dir, 'docflow', 'credentials.json');
    revoked = false;
    const used = new Set<string>();
    let issued = 1;
    api.on('POST /auth/refresh', (request, response) => {
      const { refreshToken } = JSON.parse(request.body) as { refreshToken: string };
      if (revoked || used.has(refreshToken)) {
        revoked = true;
        return send(response, 401, apiError('UNAUTHENTICATED', 'refresh token reused: session revoked'));
      }
      used.add(refreshToken);
      issued++;
      const result: AuthResult = {
        jwt: `jwt-${issued}`,
        refreshToken: `dfr_${issued}`,
        expiresIn: 900,
        user: USER,
      };
      // Slow enough for another process to try meanwhile.
      setTimeout(() => send(response, 200, result), 50);
    });
  });

  afterEach(async () => {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One docflow process: its own store object and client, the login it read at start-up. */
  function process_(store = new CredentialStore(file)) {
    const saved = store.get(api.url)!;
    const sut = new SessionCredentials(store, api.url, saved);
    const client = new ApiClient({ baseUrl: api.url, credentials: sut, sleep: async () => undefined });
    return { sut, client, store };
  }

  const savedLogin = () => new CredentialStore(file).get(api.url);

  it('takes the pair another process saved instead of refreshing with the refresh token it has used', async () => {
    new CredentialStore(file).save(api.url, session(1, 0));
    const follow = process_(); // `docflow jobs follow`, started with dfr_1
    const other = process_();
    expect(await other.sut.authorization(other.client)).toBe('Bearer jwt-2');
    // Twenty minutes later `follow` needs a new access token: it must not send dfr_1 again.
    expect(await follow.sut.authorization(follow.client)).toBe('Bearer jwt-2');
    expect(api.find('POST', '/auth/refresh').map((r) => JSON.parse(r.body).refreshToken)).toEqual(['dfr_1']);
    expect(revoked).toBe(false);
    expect(savedLogin()?.refreshToken).toBe('dfr_2');
  });

  it('after a 401, takes the newer saved pair and sends the request again without refreshing', async () => {
    new CredentialStore(file).save(api.url, session(1, 600_000));
    const follow = process_();
    new CredentialStore(file).save(api.url, session(7, 600_000));
    expect(await follow.sut.renew(follow.client)).toBe(true);
    expect(await follow.sut.authorization(follow.client)).toBe('Bearer jwt-7');
    expect(api.find('POST', '/auth/refresh')).toEqual([]);
  });

  it('two processes refreshing at the same moment: one refresh, both get the new pair', async () => {
    new CredentialStore(file).save(api.url, session(1, 0));
    const a = process_();
    const b = process_();
    const [ja, jb] = await Promise.all([a.sut.authorization(a.client), b.sut.authorization(b.client)]);
    expect([ja, jb]).toEqual(['Bearer jwt-2', 'Bearer jwt-2']);
    expect(api.find('POST', '/auth/refresh')).toHaveLength(1);
    expect(revoked).toBe(false);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('refreshes with the saved pair it adopted when that one is about to expire too', async () => {
    new CredentialStore(file).save(api.url, session(1, 0));
    const a = process_();
    new CredentialStore(file).save(api.url, session(5, 30_000)); // within the minute's margin
    expect(await a.sut.authorization(a.client)).toBe('Bearer jwt-2');
    expect(api.find('POST', '/auth/refresh').map((r) => JSON.parse(r.body).refreshToken)).toEqual(['dfr_5']);
    expect(savedLogin()).toMatchObject({ accessToken: 'jwt-2', refreshToken: 'dfr_2' });
  });

  it('a refused refresh forgets the saved login only while it still holds the refused token', async () => {
    new CredentialStore(file).save(api.url, session(1, 0));
    const a = process_();
    api.on('POST /auth/refresh', (_request, response) => {
      // Meanwhile the person signs in again (login does not wait for the lock).
      new CredentialStore(file).save(api.url, session(9, 600_000));
      send(response, 401, apiError('UNAUTHENTICATED', 'expired'));
    });
    await expect(a.sut.authorization(a.client)).rejects.toMatchObject({ exitCode: ExitCode.AUTH });
    expect(savedLogin()?.refreshToken).toBe('dfr_9');

    const b = process_(); // holds dfr_9, now refused too: that one is forgotten
    api.json('POST /auth/refresh', 401, apiError('UNAUTHENTICATED', 'expired'));
    await expect(b.sut.renew(b.client)).rejects.toMatchObject({ exitCode: ExitCode.AUTH });
    expect(existsSync(file)).toBe(false);
  });
});

describe(CredentialStore.name, () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'docflow-store-spec-'));
    file = join(dir, 'credentials.json');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('waits for the lock another process holds, and runs once it is released', async () => {
    writeFileSync(`${file}.lock`, 'other\n');
    let waits = 0;
    const sut = new CredentialStore(file, {
      sleep: async () => {
        if (++waits === 3) rmSync(`${file}.lock`);
      },
    });
    expect(await sut.withLock(async () => readFileSync(`${file}.lock`, 'utf8'))).toMatch(
      /^\d+ [0-9a-f-]{36}\n$/,
    );
    expect(waits).toBe(3);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('takes over a stale lock (its process died holding it)', async () => {
    writeFileSync(`${file}.lock`, 'dead\n');
    const old = new Date(Date.now() - 31_000);
    utimesSync(`${file}.lock`, old, old);
    const sut = new CredentialStore(file, { sleep: () => Promise.reject(new Error('should not wait')) });
    expect(await sut.withLock(async () => 'ran')).toBe('ran');
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('gives up after the bounded wait (exit 3, naming the lock file), and releases its lock on an error', async () => {
    writeFileSync(`${file}.lock`, 'other\n');
    const sut = new CredentialStore(file, { waitMs: 0, sleep: async () => undefined });
    await expect(sut.withLock(async () => 'ran')).rejects.toMatchObject({
      exitCode: ExitCode.AUTH,
      message: expect.stringContaining(`${file}.lock`),
    });
    rmSync(`${file}.lock`);
    await expect(new CredentialStore(file).withLock(() => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('an unreadable credentials file (EISDIR, EACCES, …) is exit 3 naming the file', () => {
    const sut = new CredentialStore(dir); // a directory where the file should be
    expect(() => sut.get('http://x')).toThrow(expect.objectContaining({ exitCode: ExitCode.AUTH }));
    expect(() => sut.get('http://x')).toThrow(dir);
  });
});
