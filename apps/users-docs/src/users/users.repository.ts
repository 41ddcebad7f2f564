import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import type { CursorPosition } from '@docflow/database';
import { UserEntity } from './user.entity';

@Injectable()
export class UsersRepository {
  private readonly repo: Repository<UserEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(UserEntity);
  }

  async insert(user: UserEntity): Promise<void> {
    await this.repo.insert(user);
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.repo.findOneBy({ id });
  }

  async exists(id: string): Promise<boolean> {
    return (await this.repo.exists({ where: { id } })) === true;
  }

  /** Newest first; `limit` rows after `after`. */
  list(limit: number, after?: CursorPosition): Promise<UserEntity[]> {
    const query = this.repo
      .createQueryBuilder('u')
      .orderBy('u.created_at', 'DESC')
      .addOrderBy('u.id', 'DESC')
      .limit(limit);
    if (after) query.where('(u.created_at, u.id) < (:createdAt, :id)', after);
    return query.getMany();
  }

  /**
   * Deletes the record of `email` when it was created before `createdBefore` and holds no document, in one
   * statement (a document added meanwhile keeps it). The id of what went, if anything.
   */
  async deleteUnusedByEmail(email: string, createdBefore: Date): Promise<string | undefined> {
    // TypeORM answers a DELETE ... RETURNING with [rows, affected].
    const [rows] = await this.repo.query<[{ id: string }[], number]>(
      `DELETE FROM users_docs.users u
        WHERE u.email = $1 AND u.created_at < $2
          AND NOT EXISTS (SELECT 1 FROM users_docs.documents d WHERE d.user_id = u.id)
        RETURNING u.id`,
      [email, createdBefore],
    );
    return rows[0]?.id;
  }

  /**
   * Deletes the user; their own documents go with them (ON DELETE CASCADE on `owner_user_id`). The team documents
   * they created stay: they are the team's (`user_id` keeps the creator's id, without a foreign key).
   */
  async deleteById(id: string): Promise<boolean> {
    const result = await this.repo.delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
