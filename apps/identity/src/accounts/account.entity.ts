import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An account: who can sign in. The same id is the user's id in users-docs. */
@Entity({ name: 'users' })
export class AccountEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Stored lower-cased; unique. */
  @Index('UQ_identity_users_email', { unique: true })
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  /** YYYY-MM-DD. */
  @Column({ type: 'date', nullable: true })
  birth!: string | null;

  /** argon2id PHC string; null for an account an admin created without a password (cannot sign in). */
  @Column({ name: 'password_hash', type: 'varchar', length: 255, nullable: true })
  passwordHash!: string | null;

  @Column({ name: 'is_admin', type: 'boolean', default: false })
  isAdmin!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
