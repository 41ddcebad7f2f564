// POST /auth/logout through the gateway's HTTP app with its real authenticator (session checks cached a minute) and
// identity faked over the ServiceClient: a logout ends the session at once on the gateway that served it, also
// when the session is named by a refresh token, which only identity can resolve.
import { randomUUID, type webcrypto } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  DomainError,
  ErrorCode,
  IdentitySubjects,
  type LogoutRequest,
  type LogoutResult,
  type SessionCheckRequest,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { createLogger } from '@docflow/observability';
import { loadGatewayConfig } from '../config';
import { createGatewayApps, type GatewayApps } from '../gateway.app';
import { loadJose } from '../auth/jose';

const config = loadGatewayConfig({
  STORAGE_WEBHOOK_TOKEN: 'x'.repeat(16),
  // Long enough that only a forgotten cache entry can explain a 401 right after the logout.
  SESSION_CHECK_CACHE_MS: '60000',
});

/** identity as the gateway sees it: sessions (and the refresh token of each), the account, logout. */
class FakeIdentity extends ServiceClient {
  key!: { kid: string; privateKey: webcrypto.CryptoKey; publicJwk: Record<string, unknown> };
  /** session id → its user, refresh token and whether it is still active. */
  sessions = new Map<string, { userId: string; refreshToken: string; active: boolean }>();
  calls: { subject: string; payload: unknown }[] = [];

  async send<T>(subject: string, payload: unknown): Promise<T> {
    this.calls.push({ subject, payload });
    switch (subject) {
      case IdentitySubjects.jwksGet:
        return { keys: [this.key.publicJwk] } as T;
      case IdentitySubjects.sessionCheck: {
        const { userId, sessionId } = payload as SessionCheckRequest;
        const session = this.sessions.get(sessionId);
        return { active: !!session?.active && session.userId === userId, isAdmin: false } as T;
      }
      case IdentitySubjects.userGet:
        return { id: (payload as { userId: string }).userId, name: 'U', email: 'u@example.com' } as T;
      case IdentitySubjects.logout: {
        // As identity's SessionsService.logout answers.
        const request = payload as LogoutRequest;
        const target =
          request.sessionId ??
          [...this.sessions].find(([, s]) => s.refreshToken === request.refreshToken)?.[0];
        const session = target ? this.sessions.get(target) : undefined;
        if (!target || !session) throw DomainError.validation('refreshToken', 'names no session of yours');
        if (session.userId !== request.userId) return { loggedOut: true } as T;
        session.active = false;
        return { loggedOut: true, sessionId: target } satisfies LogoutResult as T;
      }
      default:
        throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, `unexpected ${subject}`);
    }
  }

  isConnected(): boolean {
    return true;
  }

  sessionChecks(sessionId: string): number {
    return this.calls.filter(
      (c) =>
        c.subject === IdentitySubjects.sessionCheck &&
        (c.payload as SessionCheckRequest).sessionId === sessionId,
    ).length;
  }
}

describe('POST /auth/logout on the gateway that serves it', () => {
  let identity: FakeIdentity;
  let apps: GatewayApps;
  let http: FastifyInstance;

  /** A session of `userId` at identity, and an access token for it. */
  async function signIn(userId: string): Promise<{ sessionId: string; jwt: string; refreshToken: string }> {
    const jose = await loadJose();
    const sessionId = randomUUID();
    const refreshToken = `dfr_${randomUUID()}`;
    identity.sessions.set(sessionId, { userId, refreshToken, active: true });
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new jose.SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'EdDSA', kid: identity.key.kid })
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuer(config.JWT_ISSUER)
      .setAudience(config.JWT_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 900)
      .sign(identity.key.privateKey);
    return { sessionId, jwt, refreshToken };
  }

  const me = (jwt: string) =>
    http.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${jwt}` } });
  const logout = (jwt: string, body: Record<string, string> = {}) =>
    http.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization: `Bearer ${jwt}` },
      payload: body,
    });

  beforeEach(async () => {
    identity = new FakeIdentity();
    const jose = await loadJose();
    const { privateKey, publicKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' });
    identity.key = {
      kid: 'k1',
      privateKey,
      publicJwk: { ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' },
    };
    apps = await createGatewayApps(config, identity, createLogger({ service: 'gateway', level: 'silent' }));
    await apps.publicApp.init();
    http = apps.publicApp.getHttpAdapter().getInstance() as FastifyInstance;
    await http.ready();
  });

  afterEach(async () => {
    await apps?.close();
  });

  it('with { refreshToken }: the session it names stops working here at once, though its check was cached', async () => {
    const userId = randomUUID();
    const phone = await signIn(userId);
    const laptop = await signIn(userId);
    expect((await me(phone.jwt)).statusCode).toBe(200);
    expect((await me(phone.jwt)).statusCode).toBe(200);
    expect(identity.sessionChecks(phone.sessionId)).toBe(1);

    // From the laptop, end the phone's session by its refresh token.
    expect((await logout(laptop.jwt, { refreshToken: phone.refreshToken })).statusCode).toBe(204);
    expect(identity.calls.find((c) => c.subject === IdentitySubjects.logout)?.payload).toMatchObject({
      userId,
      refreshToken: phone.refreshToken,
    });
    expect(identity.calls.find((c) => c.subject === IdentitySubjects.logout)?.payload).not.toHaveProperty(
      'sessionId',
      laptop.sessionId,
    );

    const after = await me(phone.jwt);
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({
      error: { code: 'UNAUTHENTICATED', message: 'This session has ended; sign in again' },
    });
    expect(identity.sessionChecks(phone.sessionId)).toBe(2);
    // The laptop's own session goes on.
    expect((await me(laptop.jwt)).statusCode).toBe(200);
  });

  it("without a body: the caller's own session stops working at once", async () => {
    const session = await signIn(randomUUID());
    expect((await me(session.jwt)).statusCode).toBe(200);
    expect((await logout(session.jwt)).statusCode).toBe(204);
    expect((await me(session.jwt)).statusCode).toBe(401);
  });

  it("with another user's refresh token: nothing of theirs ends, and the caller's session goes on", async () => {
    const stranger = await signIn(randomUUID());
    const caller = await signIn(randomUUID());
    expect((await me(stranger.jwt)).statusCode).toBe(200);
    expect((await logout(caller.jwt, { refreshToken: stranger.refreshToken })).statusCode).toBe(204);
    expect((await me(stranger.jwt)).statusCode).toBe(200);
    expect((await me(caller.jwt)).statusCode).toBe(200);
    expect(identity.sessionChecks(stranger.sessionId)).toBe(1);
  });
});
