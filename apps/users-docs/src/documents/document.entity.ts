import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { DocumentKind, DocumentStatus } from '@docflow/contracts';
import { UserEntity } from '../users/user.entity';

const bigintAsNumber = {
  to: (value: number | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * A document of a user (`team_id` NULL) or of a team (`team_id` set; `user_id` is then the member who created
 * it). `owner_user_id` is `user_id` for a user's own document and NULL for a team's: its foreign key cascades,
 * so deleting an account deletes the user's own documents and leaves the team documents the user created (their
 * `user_id` stays as a record of who created them; it has no foreign key). The check keeps the two consistent.
 */
@Entity({ name: 'documents' })
@Index('IDX_documents_user_created_id', ['userId', 'createdAt', 'id'])
@Index('IDX_documents_team_created_id', ['teamId', 'createdAt', 'id'])
@Check(
  'CHK_documents_owner',
  '(team_id IS NULL AND owner_user_id = user_id) OR (team_id IS NOT NULL AND owner_user_id IS NULL)',
)
export class DocumentEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** The owner, or for a team's document the member who created it. */
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** The team that owns the document; NULL for a user's own. */
  @Column({ name: 'team_id', type: 'uuid', nullable: true })
  teamId!: string | null;

  /** `user_id` for a user's own document, NULL for a team's: the owner whose deletion takes it along. */
  @Column({ name: 'owner_user_id', type: 'uuid', nullable: true })
  ownerUserId!: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_user_id', foreignKeyConstraintName: 'FK_documents_owner_user' })
  ownerUser?: UserEntity;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ type: 'varchar', length: 16, default: 'upload' })
  kind!: DocumentKind;

  @Column({ name: 'content_type', type: 'varchar', length: 255 })
  contentType!: string;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  size!: number;

  @Column({ type: 'varchar', length: 20 })
  status!: DocumentStatus;

  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason!: string | null;

  @Index('UQ_documents_object_key', { unique: true })
  @Column({ name: 'object_key', type: 'varchar', length: 1024 })
  objectKey!: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  etag!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'uploaded_at', type: 'timestamptz', nullable: true })
  uploadedAt!: Date | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;

  /** For outputs: the job that made the document. */
  @Column({ name: 'job_id', type: 'uuid', nullable: true })
  jobId!: string | null;

  /** For outputs: the documents it was made from. */
  @Column({ name: 'source_doc_ids', type: 'uuid', array: true, nullable: true })
  sourceDocIds!: string[] | null;
}
