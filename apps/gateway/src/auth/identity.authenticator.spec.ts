import { randomUUID, type webcrypto } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import {
  DomainError,
  ErrorCode,
  IdentitySubjects,
  type JsonWebKeySet,
  type SessionCheckResult,
  type VerifiedToken,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { loadGatewayConfig } from '../config';
import { IdentityAuthenticator, JwksCache } from './identity.authenticator';
import { loadJose } from './jose';

type Key = { kid: string; privateKey: webcrypto.CryptoKey; publicJwk: Record<string, unknown> };

async function newKey(kid: string): Promise<Key> {
  const jose = await loadJose();
  const { privateKey, publicKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' });
  return {
    kid,
    privateKey,
    publicJwk: { ...(await jose.exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' },
  };
}

/** identity as the gateway sees it over NATS, with call counts. */
class FakeIdentity extends ServiceClient {
  keys: Key[] = [];
  sessions = new Map<string, SessionCheckResult>();
  tokens = new Map<string, VerifiedToken>();
  calls: Record<string, number> = {};
  down = false;

  async send<T>(subject: string, payload: unknown): Promise<T> {
    this.calls[subject] = (this.calls[subject] ?? 0) + 1;
    if (this.down)
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'The identity service is unavailable');
    const p = payload as Record<string, string>;
    switch (subject) {
      case IdentitySubjects.jwksGet:
        return { keys: this.keys.map((k) => k.publicJwk) } as JsonWebKeySet as T;
      case IdentitySubjects.sessionCheck:
        return (this.sessions.get(`${p.sessionId}:${p.userId}`) ?? { active: false, isAdmin: false }) as T;
      case IdentitySubjects.tokenVerify: {
        const verified = this.tokens.get(p.token!);
        if (!verified) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Invalid or expired token');
        return verified as T;
      }
      default:
        throw new Error(`unexpected ${subject}`);
    }
  }

  isConnected(): boolean {
    return !this.down;
  }
}

describe(IdentityAuthenticator.name, () => {
  const userId = randomUUID();
  const sessionId = randomUUID();
  let identity: FakeIdentity;
  let sut: IdentityAuthenticator;
  let keyA: Key;

  const configWith = (minRefreshMs: number) =>
    loadGatewayConfig({ STORAGE_WEBHOOK_TOKEN: 'x'.repeat(16), JWKS_MIN_REFRESH_MS: String(minRefreshMs) });
  const config = configWith(60_000);
  const request = (authorization?: string) =>
    ({ headers: authorization ? { authorization } : {} }) as unknown as FastifyRequest;

  async function jwt(key: Key, claims: Record<string, unknown> = {}, expiresIn = 900): Promise<string> {
    const jose = await loadJose();
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({ sid: sessionId, ...claims })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuer(config.JWT_ISSUER)
      .setAudience(config.JWT_AUDIENCE)
      .setIssuedAt(now - 10)
      .setExpirationTime(now + expiresIn)
      .sign(key.privateKey);
  }

  beforeEach(async () => {
    identity = new FakeIdentity();
    keyA = await newKey('a');
    identity.keys = [keyA];
    identity.sessions.set(`${sessionId}:${userId}`, { active: true, isAdmin: false });
    sut = new IdentityAuthenticator(identity, new JwksCache(identity, config), config);
  });

  it('admits a valid access token as the user, checking its session once per cache period', async () => {
    const token = await jwt(keyA);
    const principal = await sut.authenticate(request(`Bearer ${token}`));
    expect(principal).toMatchObject({ kind: 'user', userId, sessionId, isAdmin: false });
    await sut.authenticate(request(`Bearer ${token}`));
    expect(identity.calls[IdentitySubjects.sessionCheck]).toBe(1);
    expect(identity.calls[IdentitySubjects.jwksGet]).toBe(1);
  });

  it('fetches the JWKS again for a new kid (rotation) and keeps accepting tokens of the old key', async () => {
    const fast = configWith(1);
    sut = new IdentityAuthenticator(identity, new JwksCache(identity, fast), fast);
    await sut.authenticate(request(`Bearer ${await jwt(keyA)}`));
    const keyB = await newKey('b');
    identity.keys = [keyA, keyB];
    await expect(sut.authenticate(request(`Bearer ${await jwt(keyB)}`))).resolves.toMatchObject({ userId });
    await expect(sut.authenticate(request(`Bearer ${await jwt(keyA)}`))).resolves.toMatchObject({ userId });
    expect(identity.calls[IdentitySubjects.jwksGet]).toBe(2);
  });

  it('asks for the JWKS at most once per JWKS_MIN_REFRESH_MS however many unknown kids come', async () => {
    await sut.authenticate(request(`Bearer ${await jwt(keyA)}`));
    for (const kid of ['x', 'y', 'z']) {
      const forged = await jwt({ ...(await newKey(kid)) });
      await expect(sut.authenticate(request(`Bearer ${forged}`))).rejects.toMatchObject({
        code: ErrorCode.UNAUTHENTICATED,
      });
    }
    expect(identity.calls[IdentitySubjects.jwksGet]).toBe(1);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Basic abc'],
    ['not a JWT', 'Bearer abc.def'],
  ])('refuses %s', async (_name, header) => {
    await expect(sut.authenticate(request(header))).rejects.toMatchObject({
      code: ErrorCode.UNAUTHENTICATED,
    });
  });

  it('refuses an expired token, a token of a key identity does not publish, and an ended session', async () => {
    await expect(sut.authenticate(request(`Bearer ${await jwt(keyA, {}, -5)}`))).rejects.toMatchObject({
      code: ErrorCode.UNAUTHENTICATED,
    });
    const stranger = await newKey('a');
    await expect(sut.authenticate(request(`Bearer ${await jwt(stranger)}`))).rejects.toMatchObject({
      code: ErrorCode.UNAUTHENTICATED,
    });
    identity.sessions.set(`${sessionId}:${userId}`, { active: false, isAdmin: false });
    await expect(sut.authenticate(request(`Bearer ${await jwt(keyA)}`))).rejects.toMatchObject({
      code: ErrorCode.UNAUTHENTICATED,
      message: 'This session has ended; sign in again',
    });
  });

  it('forgets a logged-out session at once', async () => {
    const token = await jwt(keyA);
    await sut.authenticate(request(`Bearer ${token}`));
    identity.sessions.set(`${sessionId}:${userId}`, { active: false, isAdmin: false });
    sut.forgetSession(sessionId);
    await expect(sut.authenticate(request(`Bearer ${token}`))).rejects.toMatchObject({
      code: ErrorCode.UNAUTHENTICATED,
    });
  });

  it('answers 503, never admits, when identity cannot be reached', async () => {
    identity.down = true;
    await expect(sut.authenticate(request(`Bearer ${await jwt(keyA)}`))).rejects.toMatchObject({
      code: ErrorCode.SERVICE_UNAVAILABLE,
    });
  });

  it('admits a personal access token with its scopes, caches it, and forgets a revoked one', async () => {
    const token = `dfp_${'A'.repeat(43)}`;
    identity.tokens.set(token, { userId, tokenId: 't1', scopes: ['documents:read'], isAdmin: true });
    const principal = await sut.authenticate(request(`Bearer ${token}`));
    // An admin's token without the admin scope does not act as an admin.
    expect(principal).toEqual({
      kind: 'token',
      userId,
      scopes: ['documents:read'],
      isAdmin: false,
      tokenId: 't1',
    });
    await sut.authenticate(request(`Bearer ${token}`));
    expect(identity.calls[IdentitySubjects.tokenVerify]).toBe(1);
    identity.tokens.delete(token);
    sut.forgetToken('t1');
    await expect(sut.authenticate(request(`Bearer ${token}`))).rejects.toMatchObject({
      code: ErrorCode.UNAUTHENTICATED,
    });
  });
});
