import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { documentQuotaRefusal, type DocumentUsage } from '@docflow/contracts';
import { QuotaSource, type UserQuota } from '@docflow/messaging';
import { USERS_DOCS_CONFIG, type UsersDocsConfig } from '../config';
import { DocumentEntity } from './document.entity';
import { lockForTransaction } from '@docflow/database';

/** Checks an upload against the creator's quota inside the transaction that stores it. */
export type QuotaAdmission = (tx: EntityManager) => Promise<void>;

/**
 * A transaction-scoped advisory lock on a user's uploads: two creates of the same user never count at the same
 * time, so the second counts the first (race-free at the limit).
 */
export async function lockUploadQuota(manager: EntityManager, userId: string): Promise<void> {
  await lockForTransaction(manager, `users-docs.quota:${userId.toLowerCase()}`);
}

/**
 * What a user's uploads take: their documents of kind `upload` (their own and the team documents they created)
 * that are neither deleted nor rejected, and the sum of their declared sizes. Job outputs are not counted.
 */
export async function uploadUsage(manager: EntityManager, userId: string): Promise<DocumentUsage> {
  const row = await manager
    .getRepository(DocumentEntity)
    .createQueryBuilder('d')
    .select('count(*)::int', 'documents')
    .addSelect('coalesce(sum(d.size), 0)::text', 'bytes')
    .where('d.user_id = :userId', { userId: userId.toLowerCase() })
    .andWhere("d.kind = 'upload'")
    .andWhere("d.status NOT IN ('deleted', 'rejected')")
    .getRawOne<{ documents: number; bytes: string }>();
  return { documents: Number(row?.documents ?? 0), bytes: Number(row?.bytes ?? 0) };
}

/**
 * The quotas `maxDocuments` and `maxStorageBytes` (docs/user-details.md#quotas) on the creation of an upload:
 * checked first without a lock (a user over the quota is refused before anything is presigned), then again
 * under the user's lock in the transaction that inserts the document.
 */
@Injectable()
export class DocumentQuota {
  constructor(
    private readonly dataSource: DataSource,
    private readonly quotas: QuotaSource,
    @Inject(USERS_DOCS_CONFIG) private readonly config: Pick<UsersDocsConfig, 'QUOTAS'>,
  ) {}

  /**
   * Refuses (QUOTA_EXCEEDED) an upload of `size` bytes by `userId` that does not fit; otherwise the check to run
   * in the inserting transaction. `undefined` when quotas are off.
   */
  async admission(userId: string, size: number): Promise<QuotaAdmission | undefined> {
    if (this.config.QUOTAS === 'off') return undefined;
    let quota: UserQuota = await this.quotas.get(userId);
    const usage = await uploadUsage(this.dataSource.manager, userId);
    let refusal = documentQuotaRefusal(usage, size, quota.quota, quota.plan);
    // Before refusing on a cached quota, read it again: it may have been raised a moment ago.
    if (refusal && quota.cached) {
      quota = await this.quotas.get(userId, { fresh: true });
      refusal = documentQuotaRefusal(usage, size, quota.quota, quota.plan);
    }
    if (refusal) throw refusal;
    return async (tx) => {
      await lockUploadQuota(tx, userId);
      const locked = documentQuotaRefusal(await uploadUsage(tx, userId), size, quota.quota, quota.plan);
      if (locked) throw locked;
    };
  }
}
