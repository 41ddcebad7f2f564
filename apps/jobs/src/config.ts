import { resolve } from 'node:path';
import { z } from 'zod';
import { checkS3Keys, s3ConfigFields } from '@docflow/storage';
import { logLevel, loadConfig, positiveInt, secret } from '@docflow/config';
import { schedulerConfigFields } from './schedules/scheduler.config';

/** A ConfigMap key: `[-._a-zA-Z0-9]`, at most 253 characters (as `semaphoreKeyFor` makes them). */
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

const semaphoreKeys = z
  .string()
  .default('default')
  .transform((value) =>
    value
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean),
  )
  .superRefine((keys, ctx) => {
    for (const key of keys)
      if (!CONFIG_MAP_KEY.test(key))
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(key)} is not a ConfigMap key ([-._a-zA-Z0-9])`,
        });
    if (!keys.includes('default'))
      ctx.addIssue({
        code: 'custom',
        message: 'must list `default`, the key of jobs whose owner has no key of its own',
      });
  });

export const jobsConfigSchema = z
  .object({
    DATABASE_URL: z.string().startsWith('postgres').default('postgres://postgres@127.0.0.1:5432/docflow'),
    DB_POOL_SIZE: positiveInt(10),
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    ...s3ConfigFields,
    /** `local` runs steps as processes on this machine; `argo` submits Workflows to Kubernetes. */
    WORKFLOW_ENGINE: z.enum(['local', 'argo']).default('local'),
    /** argo: the namespace of the Workflows, their Secrets and the WorkflowTemplate (the jobs service's own). */
    ARGO_NAMESPACE: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name')
      .default('docflow'),
    ARGO_WORKFLOW_TEMPLATE: z.string().default('docflow-transform'),
    /** argo: overrides the worker image the WorkflowTemplate names. */
    WORKER_IMAGE: z.string().optional(),
    /**
     * argo: the keys of the ConfigMap `docflow-semaphores`, comma-separated (the chart sets them from
     * `workflows.semaphores`). A job takes its owner's own key when listed, otherwise `default`: Argo fails a
     * step whose semaphore key is missing from the ConfigMap.
     */
    SEMAPHORE_KEYS: semaphoreKeys,
    /** How often unfinished jobs are checked against the engine (a Workflow deleted, a job never submitted). */
    RECOVERY_SWEEP_MS: positiveInt(60_000),
    /** How often events still in the outbox (a failed publish) are published again. */
    OUTBOX_SWEEP_MS: positiveInt(5_000),
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
     * Documents per job at most. Replies stay under NATS's 1 MB: documents are resolved 1,000 at a time, a job
     * view lists the first 1,000, and the inputs are paged (`GET …/jobs/{job_id}/inputs`).
     */
    MAX_DOCS_PER_JOB: positiveInt(10_000),
    STEP_PARALLELISM: positiveInt(8),
    MODEL_CONCURRENCY: positiveInt(8),
    CHUNK_TOKENS: positiveInt(3000),
    MAX_DOCUMENT_BYTES: positiveInt(100 * 1024 * 1024),
    JOB_DEADLINE_SECONDS: positiveInt(6 * 3600),
    DEFAULT_MODEL_PROVIDER: z.string().default('offline'),
    DEFAULT_MODEL: z.string().default('extractive'),
    ...schedulerConfigFields,
    /**
     * The consumer of `identity.user.deleted` (a deleted user's jobs and schedules go): how long JetStream waits
     * for its ack (cancelling many jobs takes a while; a redelivery meanwhile repeats harmlessly), and the
     * delays before an erasure that failed (engine, key-vault, storage unavailable) is tried again.
     */
    DELETION_ACK_WAIT_MS: positiveInt(120_000),
    DELETION_RETRY_BASE_MS: positiveInt(1_000),
    DELETION_RETRY_MAX_MS: positiveInt(60_000),
    LOG_LEVEL: logLevel,
    /**
     * `enforce` (the default): documents and jobs are refused past the user's quota, read from user-details.
     * `off` only for tests that run this service without user-details; never in a deployment.
     */
    QUOTAS: z.enum(['enforce', 'off']).default('enforce'),
    /** How long a user's quota read from user-details is reused. */
    QUOTA_CACHE_MS: z.coerce.number().int().min(0).default(5_000),
    /** The HTTP health endpoints (`/health/live`, `/health/ready`) for probes; off unless a port is set. */
    HEALTH_HOST: z.string().default('127.0.0.1'),
    HEALTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  })
  .superRefine(checkS3Keys);

export type JobsConfig = z.infer<typeof jobsConfigSchema>;
export const JOBS_CONFIG = Symbol('JOBS_CONFIG');
export const JOBS_SCHEMA = 'jobs';

export function loadJobsConfig(env: Record<string, string | undefined> = process.env): JobsConfig {
  return loadConfig('jobs', jobsConfigSchema, env);
}
