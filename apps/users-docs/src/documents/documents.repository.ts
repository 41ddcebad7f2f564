import { Injectable } from '@nestjs/common';
import { DataSource, In, Not, type Repository } from 'typeorm';
import type { DocumentKind, DocumentStatus } from '@docflow/contracts';
import type { CursorPosition } from '@docflow/database';
import { DocumentEntity } from './document.entity';

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

  async insert(document: DocumentEntity): Promise<void> {
    await this.repo.insert(document);
  }

  /** A document of this user that has not been deleted. */
  findVisible(userId: string, id: string): Promise<DocumentEntity | null> {
    return this.repo.findOneBy({ id, userId, status: Not('deleted') });
  }

  /** The user's documents among `ids` that are not deleted. */
  findVisibleMany(userId: string, ids: string[]): Promise<DocumentEntity[]> {
    return this.repo.findBy({ userId, id: In(ids), status: Not('deleted') });
  }

  findByObjectKey(objectKey: string): Promise<DocumentEntity | null> {
    return this.repo.findOneBy({ objectKey });
  }

  /** Newest first, deleted documents left out; `limit` rows after `after`, narrowed by `filter`. */
  listVisible(
    userId: string,
    limit: number,
    after?: CursorPosition,
    filter: DocumentFilter = {},
  ): Promise<DocumentEntity[]> {
    const query = this.repo
      .createQueryBuilder('d')
      .where('d.user_id = :userId', { userId })
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
}
