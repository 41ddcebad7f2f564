import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  DomainError,
  ErrorCode,
  type AccountUser,
  type AuthResult,
  type ClientInfo,
  type SessionCheckResult,
} from '@docflow/contracts';
import { AccountsRepository } from '../accounts/accounts.repository';
import { toAccountUser } from '../accounts/account.mapper';
import { AuditLog } from '../audit/audit-log';
import { Clock } from '../common/clock';
import { randomSecret, sha256Hex } from '../common/secrets';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { SigningKeys } from '../keys/signing-keys';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionEntity } from './session.entity';
import { SessionsRepository } from './sessions.repository';

export const REFRESH_TOKEN_PREFIX = 'dfr_';

/** The one answer to any refresh token that does not work, whatever the reason. */
const invalidRefresh = () => new DomainError(ErrorCode.UNAUTHENTICATED, 'Invalid or expired refresh token');

/**
 * Sessions: a sign-in is a family of refresh tokens. Each refresh rotates the token (the old one is marked
 * used); presenting a used one again means it leaked, so the whole family is revoked and every access token
 * of the session stops working at the gateway's next check.
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly accounts: AccountsRepository,
    private readonly keys: SigningKeys,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Opens a session (in the caller's transaction when given) and returns its tokens. */
  async start(user: AccountUser, manager?: EntityManager): Promise<AuthResult> {
    const now = this.clock.now();
    const session = Object.assign(new SessionEntity(), {
      id: randomUUID(),
      userId: user.id,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.REFRESH_TOKEN_TTL_SECONDS * 1000),
      revokedAt: null,
      revokedReason: null,
    });
    const refreshToken = randomSecret(REFRESH_TOKEN_PREFIX);
    await this.sessions.insertSession(session, this.tokenRow(session.id, refreshToken, now), manager);
    return this.result(user, session.id, refreshToken, now);
  }

  private tokenRow(sessionId: string, token: string, now: Date): RefreshTokenEntity {
    return Object.assign(new RefreshTokenEntity(), {
      id: randomUUID(),
      sessionId,
      tokenHash: sha256Hex(token),
      createdAt: now,
      usedAt: null,
    });
  }

  private async result(
    user: AccountUser,
    sessionId: string,
    refreshToken: string,
    now: Date,
  ): Promise<AuthResult> {
    const ttl = this.config.ACCESS_TOKEN_TTL_SECONDS;
    const jwt = await this.keys.sign(
      user.id,
      { sid: sessionId, ...(user.isAdmin ? { adm: true } : {}) },
      { tokenId: randomUUID(), ttlSeconds: ttl, now },
    );
    return { jwt, refreshToken, expiresIn: ttl, user };
  }

  async refresh(refreshToken: string, client: ClientInfo): Promise<AuthResult> {
    if (!refreshToken.startsWith(REFRESH_TOKEN_PREFIX)) throw invalidRefresh();
    const row = await this.sessions.findTokenByHash(sha256Hex(refreshToken));
    if (!row) throw invalidRefresh();
    const session = await this.sessions.findSession(row.sessionId);
    const now = this.clock.now();
    if (!session || session.revokedAt || session.expiresAt <= now) throw invalidRefresh();
    const account = await this.accounts.findById(session.userId);
    if (!account) throw invalidRefresh();

    const next = randomSecret(REFRESH_TOKEN_PREFIX);
    const rotated = await this.sessions.transaction(async (manager) => {
      if (!(await this.sessions.markUsed(manager, row.id, now))) return false;
      await this.sessions.insertToken(manager, this.tokenRow(session.id, next, now));
      await this.sessions.extend(
        manager,
        session.id,
        new Date(now.getTime() + this.config.REFRESH_TOKEN_TTL_SECONDS * 1000),
      );
      return true;
    });
    if (!rotated) {
      // A token that was already exchanged: whoever holds the family now, it is no longer safe.
      await this.sessions.revoke(session.id, 'reuse', now);
      this.logger.warn({
        msg: 'refresh token reused: session revoked',
        sessionId: session.id,
        userId: account.id,
      });
      await this.audit.record({
        userId: account.id,
        type: 'refresh.reused',
        targetId: session.id,
        ...client,
      });
      throw invalidRefresh();
    }
    return this.result(toAccountUser(account), session.id, next, now);
  }

  /**
   * Ends a session: the caller's (from the access token) or the one the refresh token belongs to. Answers the
   * session's id when it is the caller's (ended now or before), so the gateway can forget it at once.
   */
  async logout(
    userId: string,
    sessionId: string | undefined,
    refreshToken: string | undefined,
    client: ClientInfo,
  ): Promise<string | undefined> {
    let target = sessionId;
    if (!target && refreshToken) {
      const row = refreshToken.startsWith(REFRESH_TOKEN_PREFIX)
        ? await this.sessions.findTokenByHash(sha256Hex(refreshToken))
        : null;
      target = row?.sessionId;
    }
    if (!target) throw DomainError.validation('refreshToken', 'names no session of yours');
    const revoked = await this.sessions.revoke(target, 'logout', this.clock.now(), userId);
    if (revoked) {
      await this.audit.record({ userId, type: 'logout', targetId: target, ...client });
      return target;
    }
    // Ended before (another logout, a reuse), or another user's session, which is not the caller's to forget.
    return (await this.sessions.findSession(target))?.userId === userId ? target : undefined;
  }

  async check(userId: string, sessionId: string): Promise<SessionCheckResult> {
    const [session, account] = await Promise.all([
      this.sessions.findSession(sessionId),
      this.accounts.findById(userId),
    ]);
    const active =
      !!session &&
      !!account &&
      session.userId === userId &&
      !session.revokedAt &&
      session.expiresAt > this.clock.now();
    return { active, isAdmin: active && !!account?.isAdmin };
  }
}
