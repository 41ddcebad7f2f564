import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import type { KeyOwner } from '@docflow/contracts';
import type { CursorPosition } from '@docflow/database';
import { DeletedOwnerEntity } from '../deletions/deleted-owner.entity';
import { ApiKeyEntity } from './api-key.entity';
import { lockOwner } from './owner-lock';

@Injectable()
export class ApiKeysRepository {
  private readonly repo: Repository<ApiKeyEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(ApiKeyEntity);
  }

  async insert(entity: ApiKeyEntity): Promise<void> {
    await this.repo.insert(entity);
  }

  /** Whether identity deleted the owner (and the vault erased it). */
  async isDeletedOwner(owner: KeyOwner): Promise<boolean> {
    return (
      (await this.repo.manager
        .getRepository(DeletedOwnerEntity)
        .exists({ where: { ownerType: owner.ownerType, ownerId: owner.ownerId } })) === true
    );
  }

  /**
   * Stores the key unless its owner was deleted, under the owner's lock (an erasure running at the same moment
   * either comes after and removes it, or came before and is seen here). False when the owner is gone.
   * `inTransaction` runs in the same transaction after the insert (the audit event that records it).
   */
  async insertUnlessDeleted(
    entity: ApiKeyEntity,
    inTransaction: (manager: EntityManager) => Promise<unknown>,
  ): Promise<boolean> {
    return this.repo.manager.transaction(async (tx) => {
      const owner = { ownerType: entity.ownerType, ownerId: entity.ownerId };
      await lockOwner(tx, owner);
      const gone = await tx
        .getRepository(DeletedOwnerEntity)
        .exists({ where: { ownerType: owner.ownerType, ownerId: owner.ownerId } });
      if (gone) return false;
      await tx.getRepository(ApiKeyEntity).insert(entity);
      await inTransaction(tx);
      return true;
    });
  }

  /** The owner's keys, newest first; `limit` rows after `after`. Secrets are not read. */
  listForOwner(owner: KeyOwner, limit: number, after?: CursorPosition): Promise<ApiKeyEntity[]> {
    const query = this.repo
      .createQueryBuilder('k')
      .select(['k.id', 'k.ownerType', 'k.ownerId', 'k.name', 'k.provider', 'k.last4', 'k.createdAt'])
      .where('k.owner_type = :ownerType AND k.owner_id = :ownerId', owner)
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .limit(limit);
    if (after) query.andWhere('(k.created_at, k.id) < (:createdAt, :id)', after);
    return query.getMany();
  }

  /**
   * Deletes the key when `owner` owns it (its grants go with it); null when there is no such key. `inTransaction`
   * gets the deleted key in the same transaction (the audit event that records it).
   */
  async deleteForOwner(
    owner: KeyOwner,
    id: string,
    inTransaction: (manager: EntityManager, deleted: ApiKeyEntity) => Promise<unknown>,
  ): Promise<ApiKeyEntity | null> {
    return this.repo.manager.transaction(async (tx) => {
      const result = await tx
        .getRepository(ApiKeyEntity)
        .createQueryBuilder()
        .delete()
        .where('id = :id AND owner_type = :ownerType AND owner_id = :ownerId', { id, ...owner })
        .returning(['id', 'name', 'provider'])
        .execute();
      const row = (result.raw as { id: string; name: string; provider: ApiKeyEntity['provider'] }[])[0];
      if (!row) return null;
      const deleted = Object.assign(new ApiKeyEntity(), row);
      await inTransaction(tx, deleted);
      return deleted;
    });
  }

  /** A team's key by id (its owner, provider), or null. */
  findTeamKey(id: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOne({
      select: ['id', 'provider', 'ownerType', 'ownerId'],
      where: { id, ownerType: 'team' },
    });
  }

  async existsForOwner(owner: KeyOwner, id: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOne({
      select: ['id', 'provider', 'ownerType', 'ownerId'],
      where: { id, ownerType: owner.ownerType, ownerId: owner.ownerId },
    });
  }
}
