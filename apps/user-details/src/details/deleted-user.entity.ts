import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A user whose account was deleted (`identity.user.deleted`): their details are gone, and a new-user setup that
 * comes later (its event redelivered, or behind the deletion) must not make them again. Ids only.
 */
@Entity({ name: 'deleted_users' })
export class DeletedUserEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** The deletion event that recorded it first. */
  @Column({ name: 'event_id', type: 'varchar', length: 200 })
  eventId!: string;

  @Column({ name: 'deleted_at', type: 'timestamptz' })
  deletedAt!: Date;
}
