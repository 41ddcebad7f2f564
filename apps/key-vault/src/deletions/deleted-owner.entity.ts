import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { KeyOwnerType } from '@docflow/contracts';

/**
 * An owner (user or team) identity deleted and the vault erased: no key is stored for it any more (a request
 * that was authorized just before the deletion finds it here). Ids and times only.
 */
@Entity({ name: 'deleted_owners' })
export class DeletedOwnerEntity {
  @PrimaryColumn({
    name: 'owner_type',
    type: 'varchar',
    length: 8,
    primaryKeyConstraintName: 'PK_deleted_owners',
  })
  ownerType!: KeyOwnerType;

  @PrimaryColumn({ name: 'owner_id', type: 'uuid', primaryKeyConstraintName: 'PK_deleted_owners' })
  ownerId!: string;

  @Column({ name: 'event_id', type: 'varchar', length: 200 })
  eventId!: string;

  @Column({ name: 'deleted_at', type: 'timestamptz' })
  deletedAt!: Date;
}
