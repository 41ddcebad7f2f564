import { z } from 'zod';
import { checkS3Keys, s3ConfigFields } from '@docflow/storage';
import { bool, logLevel, loadConfig, secret } from '@docflow/config';

/**
 * The step's environment: the same in the Argo container and as a local process. Secrets (the callback
 * secret, a provider key) come from the environment, in a cluster from a Kubernetes Secret, never from
 * workflow parameters.
 */
export const workerConfigSchema = z
  .object({
    ...s3ConfigFields,
    /** The private API, e.g. `http://docflow-gateway-private:8081/api/private`. */
    DOCFLOW_CALLBACK_URL: z.url(),
    DOCFLOW_CALLBACK_SECRET: secret(z.string().min(16, 'must be at least 16 characters')),
    /** For OpenAI-compatible providers: the key (kept in memory only) and an optional base URL. */
    DOCFLOW_PROVIDER_API_KEY: secret(z.string()).optional(),
    DOCFLOW_PROVIDER_BASE_URL: z.url().optional(),
    DOCFLOW_MODEL_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
    /**
     * Set by the local engine, which keeps the step's stdin open: when it closes (the jobs service ended, even
     * killed), the step stops as on SIGTERM, and the restarted service runs the chunk again. Never in a pod.
     */
    DOCFLOW_STOP_WHEN_ORPHANED: bool(false),
    LOG_LEVEL: logLevel,
  })
  .superRefine(checkS3Keys);

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  return loadConfig('worker', workerConfigSchema, env);
}
