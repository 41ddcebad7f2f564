import { ErrorCode } from './errors';
import { JOB_QUOTA_WINDOW_MS, documentQuotaRefusal, jobQuotaRefusal } from './quota';
import { PLAN_QUOTAS } from './user-details';

const free = PLAN_QUOTAS.free;

describe(documentQuotaRefusal.name, () => {
  it('lets an upload in while the count and the bytes stay within the quota', () => {
    expect(documentQuotaRefusal({ documents: 99, bytes: free.maxStorageBytes - 10 }, 10, free, 'free')).toBe(
      undefined,
    );
  });

  it('refuses the document after maxDocuments, naming the limit and the numbers', () => {
    const sut = documentQuotaRefusal({ documents: 100, bytes: 0 }, 1, free, 'free');
    expect(sut).toMatchObject({
      code: ErrorCode.QUOTA_EXCEEDED,
      message:
        'maxDocuments: 100 documents; the quota of plan free allows 100: delete documents or ask for a larger quota',
      details: { field: 'quota.maxDocuments', limit: 100, used: 100, requested: 1, plan: 'free' },
    });
  });

  it('refuses a document whose size would pass maxStorageBytes', () => {
    const sut = documentQuotaRefusal({ documents: 3, bytes: free.maxStorageBytes - 10 }, 11, free, 'free');
    expect(sut).toMatchObject({
      code: ErrorCode.QUOTA_EXCEEDED,
      message:
        'maxStorageBytes: 1,073,741,814 bytes used and this document has 11; the quota of plan free allows ' +
        '1,073,741,824 bytes: delete documents or ask for a larger quota',
      details: {
        field: 'quota.maxStorageBytes',
        limit: free.maxStorageBytes,
        used: free.maxStorageBytes - 10,
      },
    });
  });

  it('refuses everything with a quota of 0, and checks the count first', () => {
    const zero = { maxDocuments: 0, maxStorageBytes: 0 };
    expect(documentQuotaRefusal({ documents: 0, bytes: 0 }, 1, zero, 'free')?.details).toMatchObject({
      field: 'quota.maxDocuments',
    });
    expect(
      documentQuotaRefusal({ documents: 0, bytes: 0 }, 0, { maxDocuments: 1, maxStorageBytes: 0 }, 'free'),
    ).toBe(undefined);
  });

  it('still refuses a user over a quota that was lowered below what they have', () => {
    expect(
      documentQuotaRefusal({ documents: 50, bytes: 0 }, 1, { ...free, maxDocuments: 10 }, 'pro'),
    ).toMatchObject({ details: { used: 50, limit: 10, plan: 'pro' } });
  });
});

describe(jobQuotaRefusal.name, () => {
  const now = new Date('2026-12-03T12:00:00Z');
  const ago = (ms: number) => new Date(now.getTime() - ms);

  it('lets a job start while fewer than maxJobsPerDay started in the window', () => {
    expect(jobQuotaRefusal({ jobs: 19 }, free, 'free', now)).toBe(undefined);
  });

  it('refuses at the limit with the seconds until the counted job that frees a place leaves the window', () => {
    const sut = jobQuotaRefusal(
      { jobs: 20, freeingStartedAt: ago(JOB_QUOTA_WINDOW_MS - 3_600_000) },
      free,
      'free',
      now,
    );
    expect(sut).toMatchObject({
      code: ErrorCode.QUOTA_EXCEEDED,
      message:
        'maxJobsPerDay: 20 jobs in the last 24 hours; the quota of plan free allows 20; the next job can start in 3,600 s',
      details: {
        field: 'quota.maxJobsPerDay',
        limit: 20,
        used: 20,
        requested: 1,
        plan: 'free',
        retryAfterSeconds: 3600,
      },
    });
  });

  it('rounds Retry-After up, and never below 1 s', () => {
    expect(
      jobQuotaRefusal(
        { jobs: 1, freeingStartedAt: ago(JOB_QUOTA_WINDOW_MS - 1_500) },
        { maxJobsPerDay: 1 },
        'free',
        now,
      )?.details,
    ).toMatchObject({ retryAfterSeconds: 2 });
    expect(
      jobQuotaRefusal(
        { jobs: 1, freeingStartedAt: ago(JOB_QUOTA_WINDOW_MS) },
        { maxJobsPerDay: 1 },
        'free',
        now,
      )?.details,
    ).toMatchObject({ retryAfterSeconds: 1 });
  });

  it('gives no Retry-After with a limit of 0: waiting never helps', () => {
    const sut = jobQuotaRefusal({ jobs: 0 }, { maxJobsPerDay: 0 }, 'free', now);
    expect(sut?.message).toBe(
      'maxJobsPerDay: 0 jobs in the last 24 hours; the quota of plan free allows 0: ask for a larger quota',
    );
    expect(sut?.details).not.toHaveProperty('retryAfterSeconds');
  });
});
