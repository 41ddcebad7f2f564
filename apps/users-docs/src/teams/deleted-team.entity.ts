import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A team identity deleted and users-docs erased: no document is created or registered for it any more (a request
 * the gateway authorized just before the deletion finds it here). Ids and times only.
 */
@Entity({ name: 'deleted_teams' })
export class DeletedTeamEntity {
  @PrimaryColumn({ name: 'team_id', type: 'uuid', primaryKeyConstraintName: 'PK_deleted_teams' })
  teamId!: string;

  @Column({ name: 'event_id', type: 'varchar', length: 200 })
  eventId!: string;

  @Column({ name: 'deleted_at', type: 'timestamptz' })
  deletedAt!: Date;
}
