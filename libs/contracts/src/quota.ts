import { DomainError, ErrorCode } from './errors';
import type { Plan, Quota } from './user-details';

/** The `details` of a `QUOTA_EXCEEDED` error. */
export interface QuotaExceededDetails {
  /** The limit that refused: `quota.maxDocuments`, `quota.maxStorageBytes` or `quota.maxJobsPerDay`. */
  field: `quota.${keyof Quota}`;
  /** The quota's value. */
  limit: number;
  /** What the user has now (documents, bytes, jobs in the window). */
  used: number;
  /** What the refused request would have added. */
  requested: number;
  plan: Plan;
  /** Present when waiting frees the quota (the daily job limit): the HTTP `Retry-After`. */
  retryAfterSeconds?: number;
}

/** The rolling window of `maxJobsPerDay`. */
export const JOB_QUOTA_WINDOW_MS = 24 * 3600 * 1000;

const int = (n: number) => n.toLocaleString('en-US');

function exceeded(message: string, details: QuotaExceededDetails): DomainError {
  return new DomainError(ErrorCode.QUOTA_EXCEEDED, message, details);
}

/** What a user's uploads take now: documents of kind `upload` that are neither deleted nor rejected. */
export interface DocumentUsage {
  documents: number;
  bytes: number;
}

/**
 * Whether one more upload of `size` bytes fits: `undefined` when it does, else the `QUOTA_EXCEEDED` error naming
 * the limit (the number of documents is checked first).
 */
export function documentQuotaRefusal(
  usage: DocumentUsage,
  size: number,
  quota: Pick<Quota, 'maxDocuments' | 'maxStorageBytes'>,
  plan: Plan,
): DomainError | undefined {
  if (usage.documents + 1 > quota.maxDocuments) {
    return exceeded(
      `maxDocuments: ${int(usage.documents)} documents; the quota of plan ${plan} allows ${int(quota.maxDocuments)}: ` +
        'delete documents or ask for a larger quota',
      {
        field: 'quota.maxDocuments',
        limit: quota.maxDocuments,
        used: usage.documents,
        requested: 1,
        plan,
      },
    );
  }
  if (usage.bytes + size > quota.maxStorageBytes) {
    return exceeded(
      `maxStorageBytes: ${int(usage.bytes)} bytes used and this document has ${int(size)}; the quota of plan ` +
        `${plan} allows ${int(quota.maxStorageBytes)} bytes: delete documents or ask for a larger quota`,
      {
        field: 'quota.maxStorageBytes',
        limit: quota.maxStorageBytes,
        used: usage.bytes,
        requested: size,
        plan,
      },
    );
  }
  return undefined;
}

/** The jobs a user started in the window, and when the one that frees a place leaves it. */
export interface JobUsage {
  /** Jobs started in the last 24 hours (own and team jobs). */
  jobs: number;
  /**
   * When the job whose leaving brings the count under the limit was started (the oldest counted job when the
   * user is exactly at the limit); absent when the limit is 0 (waiting never helps).
   */
  freeingStartedAt?: Date;
}

/**
 * Whether one more job may start: `undefined` when it may, else the `QUOTA_EXCEEDED` error, with
 * `retryAfterSeconds` (seconds until a place frees up) when the limit is above 0.
 */
export function jobQuotaRefusal(
  usage: JobUsage,
  quota: Pick<Quota, 'maxJobsPerDay'>,
  plan: Plan,
  now: Date,
): DomainError | undefined {
  if (usage.jobs < quota.maxJobsPerDay) return undefined;
  const retryAfterSeconds =
    quota.maxJobsPerDay > 0 && usage.freeingStartedAt
      ? Math.max(
          1,
          Math.ceil((usage.freeingStartedAt.getTime() + JOB_QUOTA_WINDOW_MS - now.getTime()) / 1000),
        )
      : undefined;
  return exceeded(
    `maxJobsPerDay: ${int(usage.jobs)} jobs in the last 24 hours; the quota of plan ${plan} allows ` +
      `${int(quota.maxJobsPerDay)}` +
      (retryAfterSeconds === undefined
        ? ': ask for a larger quota'
        : `; the next job can start in ${int(retryAfterSeconds)} s`),
    {
      field: 'quota.maxJobsPerDay',
      limit: quota.maxJobsPerDay,
      used: usage.jobs,
      requested: 1,
      plan,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    },
  );
}

/** True for a `QUOTA_EXCEEDED` error. */
export function isQuotaExceeded(error: unknown): error is DomainError {
  return error instanceof DomainError && error.code === ErrorCode.QUOTA_EXCEEDED;
}
