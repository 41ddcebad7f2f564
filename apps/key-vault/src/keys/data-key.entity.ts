import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { KeyOwnerType } from '@docflow/contracts';

/** One per owner: the random key that seals the owner's secrets, stored only wrapped by a master key. */
@Entity({ name: 'data_keys' })
@Index('UQ_data_keys_owner', ['ownerType', 'ownerId'], { unique: true })
@Index('IDX_data_keys_master_key_id', ['masterKeyId'])
export class DataKeyEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'owner_type', type: 'varchar', length: 8 })
  ownerType!: KeyOwnerType;

  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId!: string;

  /** The master key that wrapped it; rotation moves every row to the active id. */
  @Column({ name: 'master_key_id', type: 'varchar', length: 64 })
  masterKeyId!: string;

  @Column({ name: 'wrapped_key', type: 'bytea' })
  wrappedKey!: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'rewrapped_at', type: 'timestamptz', nullable: true })
  rewrappedAt!: Date | null;
}
