import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ApiKeyEntity } from '../keys/api-key.entity';

/** A job may read one key until `expiresAt`, unless revoked first. Deleting the key deletes its grants. */
@Entity({ name: 'grants' })
@Index('IDX_grants_key_id', ['keyId'])
export class GrantEntity {
  @PrimaryColumn({ name: 'job_id', type: 'uuid', primaryKeyConstraintName: 'PK_grants' })
  jobId!: string;

  @PrimaryColumn({ name: 'key_id', type: 'uuid', primaryKeyConstraintName: 'PK_grants' })
  keyId!: string;

  @ManyToOne(() => ApiKeyEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'key_id', foreignKeyConstraintName: 'FK_grants_api_key' })
  key?: ApiKeyEntity;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** The user whose job holds the grant (a team key's use goes to their audit log). */
  @Column({ name: 'requested_by', type: 'uuid', nullable: true })
  requestedBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
