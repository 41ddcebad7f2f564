import { createHash, type webcrypto } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import {
  DomainError,
  ErrorCode,
  IdentitySubjects,
  PERSONAL_ACCESS_TOKEN_PREFIX,
  type AuthPrincipal,
  type JsonWebKeySet,
  type SessionCheckResult,
  type VerifiedToken,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { loadJose } from './jose';

export type Principal = AuthPrincipal & { sessionId?: string };

/** Turns a request into a principal, or throws an UNAUTHENTICATED DomainError. */
export abstract class Authenticator {
  abstract authenticate(request: FastifyRequest): Promise<Principal>;
}

const ALGORITHMS = ['EdDSA', 'ES256'];
const unauthenticated = (message = 'Authentication required: send Authorization: Bearer <token>') =>
  new DomainError(ErrorCode.UNAUTHENTICATED, message);
const invalidAccessToken = () => unauthenticated('Invalid or expired access token');

interface VerifiedClaims {
  userId: string;
  sessionId: string;
  tokenId: string;
  /** Seconds since the epoch. */
  exp: number;
}

type KeyResolver = (header: { kid?: string; alg?: string }) => Promise<webcrypto.CryptoKey>;

/**
 * The public keys of identity, fetched over NATS and kept; fetched again when a token names a kid it has
 * not seen (a key rotation), at most every JWKS_MIN_REFRESH_MS so a flood of made-up kids costs nothing.
 */
@Injectable()
export class JwksCache {
  private resolver?: KeyResolver;
  private kids = new Set<string>();
  private fetchedAt = 0;
  private attemptedAt = 0;
  private fetching?: Promise<void>;

  constructor(
    private readonly services: ServiceClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  private refresh(): Promise<void> {
    this.fetching ??= (async () => {
      this.attemptedAt = Date.now();
      try {
        const jwks = await this.services.send<JsonWebKeySet>(IdentitySubjects.jwksGet, {});
        const jose = await loadJose();
        this.resolver = jose.createLocalJWKSet(
          jwks as Parameters<typeof jose.createLocalJWKSet>[0],
        ) as KeyResolver;
        this.kids = new Set(jwks.keys.map((k) => k.kid));
        this.fetchedAt = Date.now();
      } finally {
        this.fetching = undefined;
      }
    })();
    return this.fetching;
  }

  /**
   * A key resolver that knows `kid`, or undefined when identity does not publish it. The set is fetched again
   * when a token names an unknown kid, and every JWKS_MAX_AGE_MS anyway (so a key taken out of the configuration
   * stops being trusted); both at most every JWKS_MIN_REFRESH_MS. When identity cannot be reached, the set in hand
   * keeps serving.
   */
  async resolverFor(kid: string): Promise<KeyResolver | undefined> {
    const now = Date.now();
    const mayRetry = now - this.attemptedAt >= this.config.JWKS_MIN_REFRESH_MS;
    const stale = now - this.fetchedAt >= this.config.JWKS_MAX_AGE_MS;
    if (!this.resolver) {
      await this.refresh();
    } else if (mayRetry && (stale || !this.kids.has(kid))) {
      await this.refresh().catch(() => undefined);
    }
    return this.kids.has(kid) ? this.resolver : undefined;
  }
}

/**
 * The real authenticator: `Authorization: Bearer <JWT>` is verified here from the JWKS (signature, expiry,
 * issuer, audience, kid), then identity says whether its session is still active (cached a few seconds);
 * `Authorization: Bearer dfp_...` is a personal access token, verified by identity (cached briefly).
 * Anything else, or nothing, is 401. Identity unreachable is 503: never admitted by default.
 */
@Injectable()
export class IdentityAuthenticator extends Authenticator {
  private readonly sessions: LRUCache<string, SessionCheckResult>;
  private readonly tokens: LRUCache<string, VerifiedToken>;
  /** Access tokens whose signature and claims were verified, until they expire (a minute at most). */
  private readonly verified: LRUCache<string, VerifiedClaims>;

  constructor(
    private readonly services: ServiceClient,
    private readonly jwks: JwksCache,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    super();
    this.sessions = new LRUCache({ max: 50_000, ttl: config.SESSION_CHECK_CACHE_MS });
    this.tokens = new LRUCache({ max: 10_000, ttl: config.TOKEN_CACHE_MS });
    this.verified = new LRUCache({ max: 50_000, ttl: 60_000 });
  }

  async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header === '') throw unauthenticated();
    const match = /^Bearer +([\x21-\x7e]{1,4096})$/i.exec(header);
    if (!match) throw unauthenticated('Authorization must be "Bearer <token>"');
    const token = match[1]!;
    return token.startsWith(PERSONAL_ACCESS_TOKEN_PREFIX)
      ? this.personalToken(token)
      : this.accessToken(token);
  }

  private async accessToken(token: string): Promise<Principal> {
    let claims = this.verified.get(token);
    if (claims && claims.exp * 1000 <= Date.now()) {
      this.verified.delete(token);
      throw invalidAccessToken();
    }
    claims ??= await this.verifyAccessToken(token);
    const { userId, sessionId, tokenId } = claims;
    const cacheKey = `${sessionId}:${userId}`;
    let session = this.sessions.get(cacheKey);
    if (!session) {
      session = await this.services.send<SessionCheckResult>(IdentitySubjects.sessionCheck, {
        userId,
        sessionId,
      });
      this.sessions.set(cacheKey, session);
    }
    if (!session.active) throw unauthenticated('This session has ended; sign in again');
    return { kind: 'user', userId, isAdmin: session.isAdmin, tokenId, sessionId };
  }

  /** Signature, algorithm, kid, expiry, issuer, audience; the result is kept for this exact token string. */
  private async verifyAccessToken(token: string): Promise<VerifiedClaims> {
    const jose = await loadJose();
    let kid: string | undefined;
    try {
      kid = jose.decodeProtectedHeader(token).kid;
    } catch {
      throw invalidAccessToken();
    }
    if (typeof kid !== 'string' || !kid) throw invalidAccessToken();
    const resolver = await this.jwks.resolverFor(kid);
    if (!resolver) throw invalidAccessToken();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jose.jwtVerify(token, resolver, {
        algorithms: ALGORITHMS,
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      }));
    } catch {
      throw invalidAccessToken();
    }
    const { sub: userId, sid: sessionId, jti: tokenId, exp } = payload;
    if (
      typeof userId !== 'string' ||
      typeof sessionId !== 'string' ||
      typeof tokenId !== 'string' ||
      typeof exp !== 'number'
    )
      throw invalidAccessToken();
    const claims = { userId, sessionId, tokenId, exp };
    this.verified.set(token, claims, { ttl: Math.max(1, Math.min(60_000, exp * 1000 - Date.now())) });
    return claims;
  }

  private async personalToken(token: string): Promise<Principal> {
    const key = createHash('sha256').update(token).digest('hex');
    let verified = this.tokens.get(key);
    if (!verified) {
      verified = await this.services.send<VerifiedToken>(IdentitySubjects.tokenVerify, { token });
      this.tokens.set(key, verified);
    }
    if (verified.expiresAt && Date.parse(verified.expiresAt) <= Date.now()) {
      this.tokens.delete(key);
      throw unauthenticated('Invalid or expired token');
    }
    return {
      kind: 'token',
      userId: verified.userId,
      scopes: verified.scopes,
      // An admin's token acts as an admin only when it was given the admin scope.
      isAdmin: verified.isAdmin && verified.scopes.includes('users:admin'),
      tokenId: verified.tokenId,
    };
  }

  /** Forgets a session this gateway ended (logout), so it stops working here at once. */
  forgetSession(sessionId: string): void {
    for (const key of this.sessions.keys()) if (key.startsWith(`${sessionId}:`)) this.sessions.delete(key);
  }

  /** Forgets a token this gateway revoked, so it stops working here at once. */
  forgetToken(tokenId: string): void {
    for (const [key, value] of this.tokens.entries()) if (value.tokenId === tokenId) this.tokens.delete(key);
  }
}
