import type { EntityManager } from 'typeorm';
import type { KeyOwner } from '@docflow/contracts';

/** A transaction-scoped advisory lock on an owner: storing a key and erasing the owner never interleave. */
export async function lockOwner(manager: EntityManager, owner: KeyOwner): Promise<void> {
  await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
    `key-vault.owner:${owner.ownerType}:${owner.ownerId.toLowerCase()}`,
  ]);
}
