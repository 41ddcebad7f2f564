import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { KeyOwner } from '@docflow/contracts';
import { GrantEntity } from '../grants/grant.entity';
import { ApiKeyEntity } from '../keys/api-key.entity';
import { DataKeyEntity } from '../keys/data-key.entity';
import { lockOwner } from '../keys/owner-lock';
import { DeletedOwnerEntity } from './deleted-owner.entity';

/** What one erasure removed (ids only). */
export interface Erased {
  keyIds: string[];
  dataKeyIds: string[];
  grants: number;
}

/**
 * Removes everything the vault holds for an owner that no longer exists (a deleted user or team): the grants of
 * its keys, its keys, then its data key, in one transaction. Idempotent: an owner with nothing left (already
 * erased, or never known) erases nothing. Only ids are logged.
 */
@Injectable()
export class EraseOwnerUseCase {
  private readonly logger = new Logger(EraseOwnerUseCase.name);

  constructor(private readonly dataSource: DataSource) {}

  async execute(owner: KeyOwner, eventId: string): Promise<Erased> {
    const erased = await this.dataSource.transaction(async (tx) => {
      // One at a time with a key being stored for the owner (ApiKeysRepository.insertUnlessDeleted).
      await lockOwner(tx, owner);
      await tx
        .createQueryBuilder()
        .insert()
        .into(DeletedOwnerEntity)
        .values({ ...owner, eventId, deletedAt: new Date() })
        .orIgnore()
        .execute();
      const keys = tx.getRepository(ApiKeyEntity).metadata.tablePath;
      const where = 'owner_type = :ownerType AND owner_id = :ownerId';
      const params = { ownerType: owner.ownerType, ownerId: owner.ownerId };
      // The key rows go with their grants (ON DELETE CASCADE); deleted explicitly to count them.
      const grants = await tx
        .createQueryBuilder()
        .delete()
        .from(GrantEntity)
        .where(`key_id IN (SELECT id FROM ${keys} WHERE ${where})`, params)
        .execute();
      const deletedKeys = await tx
        .createQueryBuilder()
        .delete()
        .from(ApiKeyEntity)
        .where(where, params)
        .returning(['id'])
        .execute();
      // After the keys: a key's data key is RESTRICTed while a key refers to it.
      const deletedDataKeys = await tx
        .createQueryBuilder()
        .delete()
        .from(DataKeyEntity)
        .where(where, params)
        .returning(['id'])
        .execute();
      return {
        keyIds: (deletedKeys.raw as { id: string }[]).map((r) => r.id),
        dataKeyIds: (deletedDataKeys.raw as { id: string }[]).map((r) => r.id),
        grants: grants.affected ?? 0,
      };
    });
    if (erased.keyIds.length > 0 || erased.dataKeyIds.length > 0 || erased.grants > 0) {
      this.logger.log({ msg: 'owner erased', ...owner, eventId, ...erased });
    } else {
      this.logger.debug({ msg: 'nothing to erase', ...owner, eventId });
    }
    return erased;
  }
}
