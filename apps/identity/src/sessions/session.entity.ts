import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { AccountEntity } from '../accounts/account.entity';

/**
 * A sign-in: one family of refresh tokens. Access tokens carry its id (`sid`); revoking it (logout,
 * refresh-token reuse, account deletion) ends them all within the gateway's cache time.
 */
@Entity({ name: 'sessions' })
@Index('IDX_sessions_user_id', ['userId'])
export class SessionEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => AccountEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_sessions_user' })
  user?: AccountEntity;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** Moves forward on every refresh. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** `logout`, `reuse`, `admin`. */
  @Column({ name: 'revoked_reason', type: 'varchar', length: 32, nullable: true })
  revokedReason!: string | null;
}
