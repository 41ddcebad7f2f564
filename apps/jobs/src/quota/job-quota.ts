import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { JOB_QUOTA_WINDOW_MS, jobQuotaRefusal, type JobUsage } from '@docflow/contracts';
import { QuotaSource, type UserQuota } from '@docflow/messaging';
import { Clock } from '../common/clock';
import { JOBS_CONFIG, type JobsConfig } from '../config';
import { JobEntity } from '../jobs/job.entity';
import { lockForTransaction } from '@docflow/database';

/** Checks a new job against its starter's quota inside the transaction that records it; refuses by throwing. */
export type JobAdmission = (tx: EntityManager) => Promise<void>;

/**
 * A transaction-scoped advisory lock on the jobs a user starts: two creates of the same user never count at the
 * same time, so the second sees the first (race-free at the limit).
 */
export async function lockJobQuota(manager: EntityManager, userId: string): Promise<void> {
  await lockForTransaction(manager, `jobs.quota:${userId.toLowerCase()}`);
}

/**
 * The jobs `userId` started in the 24 hours before `now` (their own and the team jobs they started, whatever
 * became of them), and, when they are at or over `limit` (> 0), when the job whose leaving the window brings them
 * under it was started.
 */
export async function jobUsage(
  manager: EntityManager,
  userId: string,
  now: Date,
  limit: number,
): Promise<JobUsage> {
  const since = new Date(now.getTime() - JOB_QUOTA_WINDOW_MS);
  const inWindow = () =>
    manager
      .getRepository(JobEntity)
      .createQueryBuilder('j')
      .where('j.user_id = :userId', { userId: userId.toLowerCase() })
      .andWhere('j.created_at > :since', { since });
  const jobs = await inWindow().getCount();
  if (jobs < limit || limit <= 0) return { jobs };
  // Below the limit again once `jobs - limit + 1` of them have left: the (jobs - limit + 1)-th oldest.
  const freeing = await inWindow()
    .select('j.created_at', 'created_at')
    .orderBy('j.created_at', 'ASC')
    .offset(jobs - limit)
    .limit(1)
    .getRawOne<{ created_at: Date }>();
  return { jobs, ...(freeing ? { freeingStartedAt: new Date(freeing.created_at) } : {}) };
}

/**
 * `maxJobsPerDay` (docs/user-details.md#quotas), on every job created: through the API, for a team, or by a
 * schedule (its run then fails with the reason). Checked first without a lock (a user at the limit is refused
 * before the documents are resolved and the manifest written), then again under the user's lock in the
 * transaction that records the job.
 */
@Injectable()
export class JobQuota {
  constructor(
    private readonly dataSource: DataSource,
    private readonly quotas: QuotaSource,
    @Inject(JOBS_CONFIG) private readonly config: Pick<JobsConfig, 'QUOTAS'>,
    private readonly clock: Clock,
  ) {}

  /** Refuses (QUOTA_EXCEEDED) a job `userId` may not start now; otherwise the check for the inserting transaction. */
  async admission(userId: string): Promise<JobAdmission | undefined> {
    if (this.config.QUOTAS === 'off') return undefined;
    let quota: UserQuota = await this.quotas.get(userId);
    const refusal = async (manager: EntityManager, q: UserQuota) => {
      const now = this.clock.now();
      const usage = await jobUsage(manager, userId, now, q.quota.maxJobsPerDay);
      return jobQuotaRefusal(usage, q.quota, q.plan, now);
    };
    let refused = await refusal(this.dataSource.manager, quota);
    // Before refusing on a cached quota, read it again: it may have been raised a moment ago.
    if (refused && quota.cached) {
      quota = await this.quotas.get(userId, { fresh: true });
      refused = await refusal(this.dataSource.manager, quota);
    }
    if (refused) throw refused;
    return async (tx) => {
      await lockJobQuota(tx, userId);
      const locked = await refusal(tx, quota);
      if (locked) throw locked;
    };
  }
}
