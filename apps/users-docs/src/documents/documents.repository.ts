import { Injectable } from '@nestjs/common';
import { DataSource, In, IsNull, Not, type EntityManager, type Repository } from 'typeorm';
import type { DocumentKind, DocumentStatus } from '@docflow/contracts';
import { lockForTransaction, type CursorPosition } from '@docflow/database';
import { DeletedTeamEntity } from '../teams/deleted-team.entity';
import { DocumentEntity } from './document.entity';

/**
 * Whose documents: a team's (`teamId`), or the user's own, which never include a team's (`team_id IS NULL`). Ids
 * in lower case.
 */
export interface DocumentScope {
  userId: string;
  teamId?: string;
}

function scopeWhere(scope: DocumentScope) {
  return scope.teamId ? { teamId: scope.teamId } : { userId: scope.userId, teamId: IsNull() };
}

/**
 * A transaction-scoped advisory lock on a team: creating a document of the team and erasing the team never
 * interleave (the erasure records the team as deleted under the same lock).
 */
export async function lockTeam(manager: EntityManager, teamId: string): Promise<void> {
  await lockForTransaction(manager, `users-docs.team:${teamId.toLowerCase()}`);
}

export interface DocumentFilter {
  kind?: DocumentKind;
  status?: DocumentStatus;
  contentType?: string;
  uploadedAfter?: Date;
  uploadedUntil?: Date;
}

export type DocumentPatch = Partial<
  Pick<DocumentEntity, 'status' | 'statusReason' | 'etag' | 'uploadedAt' | 'deletedAt' | 'updatedAt'>
>;

@Injectable()
export class DocumentsRepository {
  private readonly repo: Repository<DocumentEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(DocumentEntity);
  }

  /**
   * Stores the document. A team's document is stored under the team's lock and only while the team is not
   * recorded as deleted: false when it is (nothing stored). `admit` (an upload's quota check) runs first in the
   * same transaction, and refuses by throwing.
   */
  async insert(document: DocumentEntity, admit?: (tx: EntityManager) => Promise<void>): Promise<boolean> {
    if (!document.teamId && !admit) {
      await this.repo.insert(document);
      return true;
    }
    const teamId = document.teamId;
    return this.repo.manager.transaction(async (tx) => {
      if (admit) await admit(tx);
      if (teamId) {
        await lockTeam(tx, teamId);
        if (await tx.getRepository(DeletedTeamEntity).exists({ where: { teamId } })) return false;
      }
      await tx.getRepository(DocumentEntity).insert(document);
      return true;
    });
  }

  /** A document in this scope that has not been deleted. */
  findVisible(scope: DocumentScope, id: string): Promise<DocumentEntity | null> {
    return this.repo.findOneBy({ id, ...scopeWhere(scope), status: Not('deleted') });
  }

  /** The scope's documents among `ids` that are not deleted. */
  findVisibleMany(scope: DocumentScope, ids: string[]): Promise<DocumentEntity[]> {
    return this.repo.findBy({ ...scopeWhere(scope), id: In(ids), status: Not('deleted') });
  }

  findByObjectKey(objectKey: string): Promise<DocumentEntity | null> {
    return this.repo.findOneBy({ objectKey });
  }

  /** Newest first, deleted documents left out; `limit` rows after `after`, narrowed by `filter`. */
  listVisible(
    scope: DocumentScope,
    limit: number,
    after?: CursorPosition,
    filter: DocumentFilter = {},
  ): Promise<DocumentEntity[]> {
    const query = this.repo.createQueryBuilder('d');
    if (scope.teamId) query.where('d.team_id = :teamId', { teamId: scope.teamId });
    else query.where('d.user_id = :userId AND d.team_id IS NULL', { userId: scope.userId });
    query
      .andWhere("d.status <> 'deleted'")
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(limit);
    if (after) query.andWhere('(d.created_at, d.id) < (:createdAt, :id)', after);
    if (filter.kind) query.andWhere('d.kind = :kind', { kind: filter.kind });
    if (filter.status) query.andWhere('d.status = :status', { status: filter.status });
    if (filter.contentType?.endsWith('/*')) {
      const prefix = filter.contentType
        .slice(0, -1)
        .toLowerCase()
        .replace(/[\\%_]/g, '\\$&');
      query.andWhere("lower(d.content_type) LIKE :prefix ESCAPE '\\'", { prefix: `${prefix}%` });
    } else if (filter.contentType) {
      query.andWhere('lower(d.content_type) = :contentType', {
        contentType: filter.contentType.toLowerCase(),
      });
    }
    if (filter.uploadedAfter)
      query.andWhere('d.uploaded_at > :uploadedAfter', { uploadedAfter: filter.uploadedAfter });
    if (filter.uploadedUntil)
      query.andWhere('d.uploaded_at <= :uploadedUntil', { uploadedUntil: filter.uploadedUntil });
    return query.getMany();
  }

  /**
   * Applies `patch` only while the document is in one of `from`. The condition makes concurrent and
   * repeated events safe: the second of two identical transitions changes nothing. True when applied.
   */
  async transition(id: string, from: DocumentStatus[], patch: DocumentPatch): Promise<boolean> {
    const result = await this.repo.update({ id, status: In(from) }, patch);
    return (result.affected ?? 0) > 0;
  }

  /**
   * Records the team as deleted (once: the first event's id stays) and deletes its documents, in one
   * transaction under the team's lock: a document being created for the team either committed before (and
   * goes now) or finds the record and is refused. The ids of the documents that went.
   */
  async eraseTeam(teamId: string, eventId: string, now: Date): Promise<string[]> {
    return this.repo.manager.transaction(async (tx) => {
      await lockTeam(tx, teamId);
      await tx
        .createQueryBuilder()
        .insert()
        .into(DeletedTeamEntity)
        .values({ teamId, eventId, deletedAt: now })
        .orIgnore()
        .execute();
      const deleted = await tx
        .createQueryBuilder()
        .delete()
        .from(DocumentEntity)
        .where('team_id = :teamId', { teamId })
        .returning(['id'])
        .execute();
      return (deleted.raw as { id: string }[]).map((r) => r.id);
    });
  }
}
