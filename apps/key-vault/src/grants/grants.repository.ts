import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { ApiKeyEntity } from '../keys/api-key.entity';
import { GrantEntity } from './grant.entity';

@Injectable()
export class GrantsRepository {
  private readonly repo: Repository<GrantEntity>;
  private readonly keys: Repository<ApiKeyEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(GrantEntity);
    this.keys = dataSource.getRepository(ApiKeyEntity);
  }

  /**
   * Creates the grant, or moves the expiry of a live one (a retried create). A revoked grant stays revoked:
   * returns null then.
   */
  async upsert(grant: GrantEntity): Promise<GrantEntity | null> {
    const table = this.repo.metadata.tablePath;
    const rows = (await this.repo.query(
      `INSERT INTO ${table} (job_id, key_id, expires_at, revoked_at, requested_by, created_at)
       VALUES ($1, $2, $3, NULL, $5, $4)
       ON CONFLICT (job_id, key_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
         WHERE ${this.repo.metadata.tableName}.revoked_at IS NULL
       RETURNING job_id, key_id, expires_at`,
      [grant.jobId, grant.keyId, grant.expiresAt, grant.createdAt, grant.requestedBy ?? null],
    )) as { job_id: string; key_id: string; expires_at: Date }[];
    const row = rows[0];
    return row
      ? Object.assign(new GrantEntity(), { jobId: row.job_id, keyId: row.key_id, expiresAt: row.expires_at })
      : null;
  }

  /** Who asked for the job's grant of the key (null for grants made before this was kept). */
  async requestedBy(jobId: string, keyId: string): Promise<string | null> {
    const grant = await this.repo.findOne({ select: ['requestedBy'], where: { jobId, keyId } });
    return grant?.requestedBy ?? null;
  }

  /** The key with its data key, when a grant for the job is live at `now`. */
  findKeyForLiveGrant(jobId: string, keyId: string, now: Date): Promise<ApiKeyEntity | null> {
    return this.keys
      .createQueryBuilder('k')
      .innerJoinAndSelect('k.dataKey', 'd')
      .innerJoin(GrantEntity, 'g', 'g.key_id = k.id')
      .where('g.job_id = :jobId AND g.key_id = :keyId', { jobId, keyId })
      .andWhere('g.revoked_at IS NULL AND g.expires_at > :now', { now })
      .getOne();
  }

  /**
   * The release of a key to a job, committed with its audit event: in one transaction, the grant is checked live
   * again (and held, `FOR SHARE`, so a revocation or the key's deletion waits for the commit) and `inTransaction`
   * adds the event. False when the grant stopped being live meanwhile: nothing is recorded, nothing released.
   */
  async recordRelease(
    jobId: string,
    keyId: string,
    now: Date,
    inTransaction: (manager: EntityManager) => Promise<unknown>,
  ): Promise<boolean> {
    return this.repo.manager.transaction(async (tx) => {
      const live = await tx
        .getRepository(GrantEntity)
        .createQueryBuilder('g')
        .select('g.job_id')
        .where('g.job_id = :jobId AND g.key_id = :keyId', { jobId, keyId })
        .andWhere('g.revoked_at IS NULL AND g.expires_at > :now', { now })
        .setLock('pessimistic_read')
        .getRawOne();
      if (!live) return false;
      await inTransaction(tx);
      return true;
    });
  }

  async revokeJob(jobId: string, now: Date): Promise<number> {
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set({ revokedAt: now })
      .where('job_id = :jobId AND revoked_at IS NULL', { jobId })
      .execute();
    return result.affected ?? 0;
  }
}
