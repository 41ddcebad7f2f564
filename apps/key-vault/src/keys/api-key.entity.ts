import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { ApiKeyProvider, KeyOwnerType } from '@docflow/contracts';
import { DataKeyEntity } from './data-key.entity';

/** A provider key, sealed with its owner's data key (AES-256-GCM; iv, ciphertext and tag in three columns). */
@Entity({ name: 'api_keys' })
@Index('IDX_api_keys_owner_created_id', ['ownerType', 'ownerId', 'createdAt', 'id'])
@Index('UQ_api_keys_owner_name', ['ownerType', 'ownerId', 'name'], { unique: true })
export class ApiKeyEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'owner_type', type: 'varchar', length: 8 })
  ownerType!: KeyOwnerType;

  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId!: string;

  @Column({ name: 'data_key_id', type: 'uuid' })
  dataKeyId!: string;

  @ManyToOne(() => DataKeyEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'data_key_id', foreignKeyConstraintName: 'FK_api_keys_data_key' })
  dataKey?: DataKeyEntity;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 32 })
  provider!: ApiKeyProvider;

  @Column({ type: 'varchar', length: 4 })
  last4!: string;

  @Column({ type: 'bytea' })
  iv!: Buffer;

  @Column({ type: 'bytea' })
  ciphertext!: Buffer;

  @Column({ name: 'auth_tag', type: 'bytea' })
  authTag!: Buffer;

  /** The user who stored it. */
  @Column({ name: 'created_by', type: 'uuid' })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
