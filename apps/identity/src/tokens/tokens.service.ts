import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  MAX_ACTIVE_PERSONAL_ACCESS_TOKENS,
  PAGE_LIMIT_DEFAULT,
  PERSONAL_ACCESS_TOKEN_PREFIX,
  type CreatedPersonalAccessToken,
  type CreateTokenRequest,
  type ListTokensRequest,
  type PersonalAccessToken,
  type PersonalAccessTokenPage,
  type RevokeTokenRequest,
  type VerifiedToken,
} from '@docflow/contracts';
import { isScope } from '@docflow/authz';
import { decodeCursor, toPage } from '@docflow/database';
import { AccountsRepository } from '../accounts/accounts.repository';
import { AuditLog } from '../audit/audit-log';
import { Clock } from '../common/clock';
import { randomSecret, sha256Hex } from '../common/secrets';
import { PersonalAccessTokenEntity } from './personal-access-token.entity';
import { TokensRepository } from './tokens.repository';

/** Tokens per user that are not revoked, at most (expired ones count until revoked). */
export const MAX_ACTIVE_TOKENS = MAX_ACTIVE_PERSONAL_ACCESS_TOKENS;
/** `last_used_at` is written at most this often per token. */
const TOUCH_EVERY_MS = 60_000;

const invalidToken = () => new DomainError(ErrorCode.UNAUTHENTICATED, 'Invalid or expired token');

export function toPersonalAccessToken(entity: PersonalAccessTokenEntity): PersonalAccessToken {
  return {
    id: entity.id,
    name: entity.name,
    scopes: entity.scopes,
    prefix: entity.prefix,
    createdAt: entity.createdAt.toISOString(),
    ...(entity.expiresAt ? { expiresAt: entity.expiresAt.toISOString() } : {}),
    ...(entity.lastUsedAt ? { lastUsedAt: entity.lastUsedAt.toISOString() } : {}),
    ...(entity.revokedAt ? { revokedAt: entity.revokedAt.toISOString() } : {}),
  };
}

/** Personal access tokens for CI: 256 random bits after `dfp_`, shown once, stored as SHA-256. */
@Injectable()
export class TokensService {
  constructor(
    private readonly tokens: TokensRepository,
    private readonly accounts: AccountsRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async create(request: CreateTokenRequest): Promise<CreatedPersonalAccessToken> {
    const account = await this.accounts.findById(request.userId);
    if (!account) throw DomainError.notFound('user');
    const scopes = [...new Set(request.scopes)];
    const unknown = scopes.filter((s) => !isScope(s));
    if (unknown.length) throw DomainError.validation('scopes', `unknown scope(s): ${unknown.join(', ')}`);
    if (scopes.includes('users:admin') && !account.isAdmin)
      throw new DomainError(ErrorCode.FORBIDDEN, 'scopes: users:admin is for platform admins only');
    const now = this.clock.now();
    const expiresAt = request.expiresAt ? new Date(request.expiresAt) : null;
    if (expiresAt && !(expiresAt.getTime() > now.getTime()))
      throw DomainError.validation('expiresAt', 'must be in the future');
    if ((await this.tokens.countActive(account.id)) >= MAX_ACTIVE_TOKENS)
      throw new DomainError(
        ErrorCode.CONFLICT,
        `at most ${MAX_ACTIVE_TOKENS} active tokens; revoke one first`,
      );
    const token = randomSecret(PERSONAL_ACCESS_TOKEN_PREFIX);
    const entity = Object.assign(new PersonalAccessTokenEntity(), {
      id: randomUUID(),
      userId: account.id,
      name: request.name.trim(),
      scopes,
      tokenHash: sha256Hex(token),
      prefix: token.slice(0, PERSONAL_ACCESS_TOKEN_PREFIX.length + 6),
      createdAt: now,
      expiresAt,
      lastUsedAt: null,
      revokedAt: null,
    });
    await this.tokens.insert(entity);
    await this.audit.record({
      userId: account.id,
      type: 'token.created',
      targetId: entity.id,
      ip: request.ip,
      userAgent: request.userAgent,
      details: { name: entity.name, scopes: scopes.join(' ') },
    });
    return { ...toPersonalAccessToken(entity), token };
  }

  async list(request: ListTokensRequest): Promise<PersonalAccessTokenPage> {
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    return toPage(await this.tokens.list(request.userId, limit + 1, after), limit, toPersonalAccessToken);
  }

  async revoke(request: RevokeTokenRequest): Promise<PersonalAccessToken> {
    const revoked = await this.tokens.revoke(request.userId, request.tokenId, this.clock.now());
    if (!revoked) throw DomainError.notFound('token');
    await this.audit.record({
      userId: request.userId,
      type: 'token.revoked',
      targetId: revoked.id,
      ip: request.ip,
      userAgent: request.userAgent,
    });
    return toPersonalAccessToken(revoked);
  }

  async verify(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || !token.startsWith(PERSONAL_ACCESS_TOKEN_PREFIX) || token.length > 200)
      throw invalidToken();
    const entity = await this.tokens.findByHash(sha256Hex(token));
    const now = this.clock.now();
    if (!entity || entity.revokedAt || (entity.expiresAt && entity.expiresAt <= now)) throw invalidToken();
    const account = await this.accounts.findById(entity.userId);
    if (!account) throw invalidToken();
    if (!entity.lastUsedAt || now.getTime() - entity.lastUsedAt.getTime() > TOUCH_EVERY_MS)
      await this.tokens.touch(entity.id, now);
    return {
      userId: entity.userId,
      tokenId: entity.id,
      // A grant taken away from the account also leaves its tokens.
      scopes: account.isAdmin ? entity.scopes : entity.scopes.filter((s) => s !== 'users:admin'),
      isAdmin: account.isAdmin,
      ...(entity.expiresAt ? { expiresAt: entity.expiresAt.toISOString() } : {}),
    };
  }
}
