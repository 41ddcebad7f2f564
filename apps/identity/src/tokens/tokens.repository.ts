import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, type Repository } from 'typeorm';
import type { CursorPosition } from '@docflow/database';
import { PersonalAccessTokenEntity } from './personal-access-token.entity';

@Injectable()
export class TokensRepository {
  private readonly repo: Repository<PersonalAccessTokenEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(PersonalAccessTokenEntity);
  }

  async insert(token: PersonalAccessTokenEntity): Promise<void> {
    await this.repo.insert(token);
  }

  findByHash(tokenHash: string): Promise<PersonalAccessTokenEntity | null> {
    return this.repo.findOneBy({ tokenHash });
  }

  countActive(userId: string): Promise<number> {
    return this.repo.countBy({ userId, revokedAt: IsNull() });
  }

  list(userId: string, limit: number, after?: CursorPosition): Promise<PersonalAccessTokenEntity[]> {
    const query = this.repo
      .createQueryBuilder('t')
      .where('t.user_id = :userId', { userId })
      .orderBy('t.created_at', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .limit(limit);
    if (after) query.andWhere('(t.created_at, t.id) < (:createdAt, :id)', after);
    return query.getMany();
  }

  /** Revokes the user's token if it is active; null when there is no such token of theirs. */
  async revoke(userId: string, id: string, now: Date): Promise<PersonalAccessTokenEntity | null> {
    const token = await this.repo.findOneBy({ id, userId });
    if (!token) return null;
    if (!token.revokedAt) {
      await this.repo.update({ id, revokedAt: IsNull() }, { revokedAt: now });
      token.revokedAt = now;
    }
    return token;
  }

  async touch(id: string, now: Date): Promise<void> {
    await this.repo.update({ id }, { lastUsedAt: now });
  }
}
