import { resolve } from 'node:path';
import { z } from 'zod';
import { checkS3Keys, s3ConfigFields } from '@docflow/storage';
import { logLevel, loadConfig, positiveInt, secret } from '@docflow/config';
import { schedulerConfigFields } from './schedules/scheduler.config';

export const jobsConfigSchema = z
  .object({
    DATABASE_URL: z.string().startsWith('postgres').default('postgres://postgres@127.0.0.1:5432/docflow'),
    DB_POOL_SIZE: positiveInt(10),
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    ...s3ConfigFields,
    /** `local` runs steps as processes on this machine; `argo` submits Workflows to Kubernetes. */
    WORKFLOW_ENGINE: z.enum(['local', 'argo']).default('local'),
    /** The private API as the steps reach it. */
    STEP_CALLBACK_URL: z.url().default('http://127.0.0.1:8081/api/private'),
    LOCAL_WORKER_ENTRY: z.string().default(resolve(__dirname, '../../worker/dist/main.js')),
    LOCAL_ENGINE_CONCURRENCY: positiveInt(2),
    /** V8 heap cap of each local step, as the WorkflowTemplate sets with NODE_OPTIONS. */
    LOCAL_WORKER_MAX_OLD_SPACE_MB: positiveInt(192),
    /** Inputs one step handles at least: many per pod, never one pod per document. */
    DOCS_PER_CHUNK: positiveInt(25),
    /** Steps per job at most: larger jobs get more inputs per step (Argo slows down with thousands of pods). */
    MAX_CHUNKS_PER_JOB: positiveInt(150),
    /** For OpenAI-compatible models on the local engine, until steps fetch the user's key from the vault. */
    PROVIDER_API_KEY: secret(z.string()).optional(),
    PROVIDER_BASE_URL: z.url().optional(),
    /**
     * A job's documents travel in one NATS reply (1 MB by default), so a job holds at most 2,000 of them for
     * now; larger batches are split into several jobs until job inputs are paged.
     */
    MAX_DOCS_PER_JOB: positiveInt(2_000),
    STEP_PARALLELISM: positiveInt(8),
    MODEL_CONCURRENCY: positiveInt(8),
    CHUNK_TOKENS: positiveInt(3000),
    MAX_DOCUMENT_BYTES: positiveInt(100 * 1024 * 1024),
    JOB_DEADLINE_SECONDS: positiveInt(6 * 3600),
    DEFAULT_MODEL_PROVIDER: z.string().default('offline'),
    DEFAULT_MODEL: z.string().default('extractive'),
    ...schedulerConfigFields,
    LOG_LEVEL: logLevel,
  })
  .superRefine(checkS3Keys);

export type JobsConfig = z.infer<typeof jobsConfigSchema>;
export const JOBS_CONFIG = Symbol('JOBS_CONFIG');
export const JOBS_SCHEMA = 'jobs';

export function loadJobsConfig(env: Record<string, string | undefined> = process.env): JobsConfig {
  return loadConfig('jobs', jobsConfigSchema, env);
}
