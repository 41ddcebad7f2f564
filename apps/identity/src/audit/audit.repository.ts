import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import type { CursorPosition } from '@docflow/database';
import { AuditEventEntity } from './audit-event.entity';

@Injectable()
export class AuditRepository {
  private readonly repo: Repository<AuditEventEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(AuditEventEntity);
  }

  async insert(event: AuditEventEntity, manager?: EntityManager): Promise<void> {
    await (manager ? manager.getRepository(AuditEventEntity) : this.repo).insert(event);
  }

  /** Inserts the event unless one with its id exists; false when it did (a repeat). */
  async insertUnlessExists(event: AuditEventEntity): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .insert()
      .values(event)
      .orIgnore()
      .returning(['id'])
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  /** The user's events, or the team's, newest first. */
  list(
    of: { userId: string } | { teamId: string },
    limit: number,
    after?: CursorPosition,
  ): Promise<AuditEventEntity[]> {
    const query = this.repo
      .createQueryBuilder('a')
      .where('userId' in of ? 'a.user_id = :userId' : 'a.team_id = :teamId', of)
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(limit);
    if (after) query.andWhere('(a.created_at, a.id) < (:createdAt, :id)', after);
    return query.getMany();
  }
}
