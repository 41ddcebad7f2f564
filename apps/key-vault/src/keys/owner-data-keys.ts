import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { KeyOwner } from '@docflow/contracts';
import { Clock } from '../common/clock';
import { EnvelopeCipher } from '../crypto/envelope';
import { DataKeyEntity } from './data-key.entity';
import { DataKeysRepository } from './data-keys.repository';

/** The unwrapped data key of an owner, for one operation; `release()` zeroes it. */
export interface OpenDataKey {
  id: string;
  key: Buffer;
  release(): void;
}

/** Each owner's data key: made on the owner's first secret, unwrapped for each operation, never cached. */
@Injectable()
export class OwnerDataKeys {
  constructor(
    private readonly repository: DataKeysRepository,
    private readonly cipher: EnvelopeCipher,
    private readonly clock: Clock,
  ) {}

  /** The owner's data key, made (and stored wrapped) when the owner has none yet. */
  async openOrCreate(owner: KeyOwner): Promise<OpenDataKey> {
    const existing = await this.repository.findByOwner(owner);
    if (existing) return this.open(existing);
    const { dataKey, wrapped } = await this.cipher.newDataKey(owner);
    const entity = Object.assign(new DataKeyEntity(), {
      id: randomUUID(),
      ownerType: owner.ownerType,
      ownerId: owner.ownerId,
      masterKeyId: wrapped.masterKeyId,
      wrappedKey: wrapped.wrapped,
      createdAt: this.clock.now(),
      rewrappedAt: null,
    });
    if (await this.repository.insertIfAbsent(entity)) return opened(entity.id, dataKey);
    // Another request made the owner's first key at the same moment: use theirs.
    dataKey.fill(0);
    const winner = await this.repository.findByOwner(owner);
    if (!winner) throw new Error('data key vanished after a concurrent insert');
    return this.open(winner);
  }

  async open(entity: DataKeyEntity): Promise<OpenDataKey> {
    const key = await this.cipher.unwrapDataKey(
      { ownerType: entity.ownerType, ownerId: entity.ownerId },
      { masterKeyId: entity.masterKeyId, wrapped: entity.wrappedKey },
    );
    return opened(entity.id, key);
  }
}

function opened(id: string, key: Buffer): OpenDataKey {
  return { id, key, release: () => key.fill(0) };
}
