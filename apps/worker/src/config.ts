import { z } from 'zod';
import { bool, logLevel, loadConfig, secret } from '@docflow/config';

/**
 * The step's environment: the same in the Argo container and as a local process. Secrets (the callback
 * secret, a provider key) come from the environment, in a cluster from a Kubernetes Secret, never from
 * workflow parameters.
 */
export const workerConfigSchema = z
  .object({
    S3_BUCKET: z.string().min(3).default('docflow'),
    S3_REGION: z.string().default('us-east-1'),
    S3_ENDPOINT: z.url().optional(),
    S3_ACCESS_KEY_ID: z.string().optional(),
    S3_SECRET_ACCESS_KEY: secret(z.string()).optional(),
    S3_FORCE_PATH_STYLE: bool(true),
    /** The private API, e.g. `http://docflow-gateway-private:8081/api/private`. */
    DOCFLOW_CALLBACK_URL: z.url(),
    DOCFLOW_CALLBACK_SECRET: secret(z.string().min(16, 'must be at least 16 characters')),
    /** For OpenAI-compatible providers: the key (kept in memory only) and an optional base URL. */
    DOCFLOW_PROVIDER_API_KEY: secret(z.string()).optional(),
    DOCFLOW_PROVIDER_BASE_URL: z.url().optional(),
    DOCFLOW_MODEL_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
    LOG_LEVEL: logLevel,
  })
  .superRefine((c, ctx) => {
    if (!!c.S3_ACCESS_KEY_ID !== !!c.S3_SECRET_ACCESS_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['S3_SECRET_ACCESS_KEY'],
        message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together',
      });
    }
  });

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  return loadConfig('worker', workerConfigSchema, env);
}
