import { z } from 'zod';
import { bool, logLevel, loadConfig, positiveInt, secret } from '@docflow/config';

export const usersDocsConfigSchema = z
  .object({
    DATABASE_URL: z.string().startsWith('postgres').default('postgres://postgres@127.0.0.1:5432/docflow'),
    DB_POOL_SIZE: positiveInt(10),
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    S3_BUCKET: z.string().min(3).default('docflow'),
    S3_REGION: z.string().default('us-east-1'),
    S3_ENDPOINT: z.url().optional(),
    S3_PUBLIC_ENDPOINT: z.url().optional(),
    S3_ACCESS_KEY_ID: z.string().optional(),
    S3_SECRET_ACCESS_KEY: secret(z.string()).optional(),
    S3_FORCE_PATH_STYLE: bool(true),
    UPLOAD_URL_TTL_SECONDS: positiveInt(900).pipe(z.number().max(7 * 24 * 3600)),
    DOWNLOAD_URL_TTL_SECONDS: positiveInt(900).pipe(z.number().max(7 * 24 * 3600)),
    MAX_DOCUMENT_SIZE_BYTES: positiveInt(100 * 1024 * 1024),
    LOG_LEVEL: logLevel,
  })
  .superRefine((c, ctx) => {
    if (!!c.S3_ACCESS_KEY_ID !== !!c.S3_SECRET_ACCESS_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: [c.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'],
        message:
          'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together (or neither, for the default AWS chain)',
      });
    }
  });

/** The PostgreSQL schema users-docs owns. Its migrations name it, so it is not configurable. */
export const USERS_DOCS_SCHEMA = 'users_docs';

export type UsersDocsConfig = z.infer<typeof usersDocsConfigSchema>;

export const USERS_DOCS_CONFIG = Symbol('USERS_DOCS_CONFIG');

export function loadUsersDocsConfig(env: Record<string, string | undefined> = process.env): UsersDocsConfig {
  return loadConfig('users-docs', usersDocsConfigSchema, env);
}
