import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity({ name: 'teams' })
@Index('UQ_teams_default_for_user_id', ['defaultForUserId'], { unique: true })
export class TeamEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  /**
   * Set on the default team made for a new user at setup (`identity.team.create-default`): at most one per user,
   * so a repeated request finds it instead of making another.
   */
  @Column({ name: 'default_for_user_id', type: 'uuid', nullable: true })
  defaultForUserId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
