import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { TeamRole } from '@docflow/contracts';
import { TeamEntity } from './team.entity';
import { AccountEntity } from '../accounts/account.entity';

@Entity({ name: 'team_members' })
@Index('IDX_team_members_user_id', ['userId'])
export class TeamMemberEntity {
  @PrimaryColumn({ name: 'team_id', type: 'uuid' })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id', foreignKeyConstraintName: 'FK_team_members_team' })
  team?: TeamEntity;

  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => AccountEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_team_members_user' })
  user?: AccountEntity;

  @Column({ type: 'varchar', length: 16 })
  role!: TeamRole;

  @Column({ name: 'added_at', type: 'timestamptz' })
  addedAt!: Date;
}
