import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { AuditEventType } from '@docflow/contracts';

/**
 * One security event, readable by the user it concerns, and by the owners of the team it concerns (`teamId`).
 * Never holds a secret.
 */
@Entity({ name: 'audit_events' })
@Index('IDX_audit_user_created', ['userId', 'createdAt', 'id'])
@Index('IDX_audit_team_created', ['teamId', 'createdAt', 'id'], { where: 'team_id IS NOT NULL' })
export class AuditEventEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** Null for a failed login naming no account: kept for operators, shown to nobody through the API. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  /** The team the event concerns (a team's key, its members), or null. */
  @Column({ name: 'team_id', type: 'uuid', nullable: true })
  teamId!: string | null;

  @Column({ type: 'varchar', length: 40 })
  type!: AuditEventType;

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId!: string | null;

  @Column({ name: 'target_id', type: 'varchar', length: 100, nullable: true })
  targetId!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 256, nullable: true })
  userAgent!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  details!: Record<string, string | number | boolean> | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
