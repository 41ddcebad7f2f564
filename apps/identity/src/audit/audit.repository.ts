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

  /** The user's events, newest first. */
  list(userId: string, limit: number, after?: CursorPosition): Promise<AuditEventEntity[]> {
    const query = this.repo
      .createQueryBuilder('a')
      .where('a.user_id = :userId', { userId })
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(limit);
    if (after) query.andWhere('(a.created_at, a.id) < (:createdAt, :id)', after);
    return query.getMany();
  }
}
