import { z } from 'zod';
import { checkS3Keys, s3ConfigFields } from '@docflow/storage';
import { logLevel, loadConfig, positiveInt } from '@docflow/config';

export const usersDocsConfigSchema = z
  .object({
    DATABASE_URL: z.string().startsWith('postgres').default('postgres://postgres@127.0.0.1:5432/docflow'),
    DB_POOL_SIZE: positiveInt(10),
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    ...s3ConfigFields,
    S3_PUBLIC_ENDPOINT: z.url().optional(),
    UPLOAD_URL_TTL_SECONDS: positiveInt(900).pipe(z.number().max(7 * 24 * 3600)),
    DOWNLOAD_URL_TTL_SECONDS: positiveInt(900).pipe(z.number().max(7 * 24 * 3600)),
    MAX_DOCUMENT_SIZE_BYTES: positiveInt(100 * 1024 * 1024),
    LOG_LEVEL: logLevel,
    /**
     * `enforce` (the default): documents and jobs are refused past the user's quota, read from user-details.
     * `off` only for tests that run this service without user-details; never in a deployment.
     */
    QUOTAS: z.enum(['enforce', 'off']).default('enforce'),
    /** How long a user's quota read from user-details is reused. */
    QUOTA_CACHE_MS: z.coerce.number().int().min(0).default(5_000),
    /** How long JetStream waits for the ack of a team's erasure (identity.team.deleted) before delivering it again. */
    DELETION_ACK_WAIT_MS: positiveInt(30_000),
    /** First delay before an erasure that failed (database, storage) is tried again; doubles up to the max. */
    DELETION_RETRY_BASE_MS: positiveInt(1_000),
    DELETION_RETRY_MAX_MS: positiveInt(60_000),
    /** The HTTP health endpoints (`/health/live`, `/health/ready`) for probes; off unless a port is set. */
    HEALTH_HOST: z.string().default('127.0.0.1'),
    HEALTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  })
  .superRefine(checkS3Keys);

/** The PostgreSQL schema users-docs owns. Its migrations name it, so it is not configurable. */
export const USERS_DOCS_SCHEMA = 'users_docs';

export type UsersDocsConfig = z.infer<typeof usersDocsConfigSchema>;

export const USERS_DOCS_CONFIG = Symbol('USERS_DOCS_CONFIG');

export function loadUsersDocsConfig(env: Record<string, string | undefined> = process.env): UsersDocsConfig {
  return loadConfig('users-docs', usersDocsConfigSchema, env);
}
