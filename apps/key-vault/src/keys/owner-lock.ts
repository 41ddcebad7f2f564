import type { EntityManager } from 'typeorm';
import type { KeyOwner } from '@docflow/contracts';
import { lockForTransaction } from '@docflow/database';

/** A transaction-scoped advisory lock on an owner: storing a key and erasing the owner never interleave. */
export async function lockOwner(manager: EntityManager, owner: KeyOwner): Promise<void> {
  await lockForTransaction(manager, `key-vault.owner:${owner.ownerType}:${owner.ownerId.toLowerCase()}`);
}
