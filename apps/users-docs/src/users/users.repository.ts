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

  /** Deletes the user; their documents go with them (ON DELETE CASCADE). */
  async deleteById(id: string): Promise<boolean> {
    const result = await this.repo.delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
