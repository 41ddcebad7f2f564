import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import type { KeyOwner } from '@docflow/contracts';
import { DataKeyEntity } from './data-key.entity';

@Injectable()
export class DataKeysRepository {
  private readonly repo: Repository<DataKeyEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(DataKeyEntity);
  }

  findByOwner(owner: KeyOwner): Promise<DataKeyEntity | null> {
    return this.repo.findOneBy({ ownerType: owner.ownerType, ownerId: owner.ownerId });
  }

  findById(id: string): Promise<DataKeyEntity | null> {
    return this.repo.findOneBy({ id });
  }

  /** Inserts unless the owner has a data key already (a concurrent first key); false when one existed. */
  async insertIfAbsent(entity: DataKeyEntity): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .insert()
      .values(entity)
      .orIgnore()
      .returning(['id'])
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  /** How many data keys each master key wraps. */
  async countByMasterKey(): Promise<Record<string, number>> {
    const rows = await this.repo
      .createQueryBuilder('d')
      .select('d.master_key_id', 'masterKeyId')
      .addSelect('COUNT(*)::int', 'count')
      .groupBy('d.master_key_id')
      .getRawMany<{ masterKeyId: string; count: number }>();
    return Object.fromEntries(rows.map((r) => [r.masterKeyId, r.count]));
  }

  /**
   * Locks up to `limit` data keys not wrapped by `activeMasterKeyId`, skipping rows another rotation holds.
   * Runs inside the caller's transaction.
   */
  lockNotWrappedBy(
    manager: EntityManager,
    activeMasterKeyId: string,
    limit: number,
  ): Promise<DataKeyEntity[]> {
    return manager
      .getRepository(DataKeyEntity)
      .createQueryBuilder('d')
      .where('d.master_key_id <> :active', { active: activeMasterKeyId })
      .orderBy('d.id')
      .limit(limit)
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .getMany();
  }

  async rewrap(
    manager: EntityManager,
    id: string,
    from: string,
    to: { masterKeyId: string; wrappedKey: Buffer },
    at: Date,
  ): Promise<boolean> {
    const result = await manager
      .getRepository(DataKeyEntity)
      .update({ id, masterKeyId: from }, { ...to, rewrappedAt: at });
    return (result.affected ?? 0) > 0;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
