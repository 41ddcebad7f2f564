import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, type EntityManager, type Repository } from 'typeorm';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionEntity } from './session.entity';

@Injectable()
export class SessionsRepository {
  private readonly sessions: Repository<SessionEntity>;
  private readonly tokens: Repository<RefreshTokenEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.sessions = dataSource.getRepository(SessionEntity);
    this.tokens = dataSource.getRepository(RefreshTokenEntity);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async insertSession(
    session: SessionEntity,
    token: RefreshTokenEntity,
    manager?: EntityManager,
  ): Promise<void> {
    const run = async (m: EntityManager) => {
      await m.getRepository(SessionEntity).insert(session);
      await m.getRepository(RefreshTokenEntity).insert(token);
    };
    await (manager ? run(manager) : this.dataSource.transaction(run));
  }

  findSession(id: string): Promise<SessionEntity | null> {
    return this.sessions.findOneBy({ id });
  }

  findTokenByHash(tokenHash: string): Promise<RefreshTokenEntity | null> {
    return this.tokens.findOneBy({ tokenHash });
  }

  /**
   * Marks the token used if nobody did before (true), in the caller's transaction. A false means the token
   * was rotated already: its reuse.
   */
  async markUsed(manager: EntityManager, tokenId: string, now: Date): Promise<boolean> {
    const result = await manager
      .getRepository(RefreshTokenEntity)
      .update({ id: tokenId, usedAt: IsNull() }, { usedAt: now });
    return (result.affected ?? 0) === 1;
  }

  async insertToken(manager: EntityManager, token: RefreshTokenEntity): Promise<void> {
    await manager.getRepository(RefreshTokenEntity).insert(token);
  }

  async extend(manager: EntityManager, sessionId: string, expiresAt: Date): Promise<void> {
    await manager.getRepository(SessionEntity).update({ id: sessionId }, { expiresAt });
  }

  /** Revokes a session that is still active; true when this call revoked it. */
  async revoke(sessionId: string, reason: string, now: Date, userId?: string): Promise<boolean> {
    const result = await this.sessions.update(
      { id: sessionId, revokedAt: IsNull(), ...(userId ? { userId } : {}) },
      { revokedAt: now, revokedReason: reason },
    );
    return (result.affected ?? 0) === 1;
  }
}
