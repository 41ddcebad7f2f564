import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One run (or resumed run) of the master key rotation: which key everything moved to, how many, when. */
@Entity({ name: 'master_key_rotations' })
export class MasterKeyRotationEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'to_master_key_id', type: 'varchar', length: 64 })
  toMasterKeyId!: string;

  /** The master key ids found on data keys when the rotation started. */
  @Column({ name: 'from_master_key_ids', type: 'varchar', length: 64, array: true })
  fromMasterKeyIds!: string[];

  @Column({ type: 'integer', default: 0 })
  rewrapped!: number;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
