/**
 * The contract between the jobs service and the worker step (the container in the Argo template, or a
 * local process). The jobs service writes a manifest to object storage; each step is started with
 *
 *   docflow-worker run --job <job_id> --manifest s3://<bucket>/<key> --chunk <n>
 *
 * (the same arguments may come as DOCFLOW_JOB_ID / DOCFLOW_MANIFEST / DOCFLOW_CHUNK), reads its chunk of
 * documents, and reports progress as HMAC-signed events to the private API. Secrets never travel in the
 * manifest or the arguments: the callback secret and provider keys reach the step as environment variables
 * (a Kubernetes Secret in a cluster).
 */

export const JOB_MANIFEST_VERSION = 1;

export const JOB_STRATEGIES = ['individual', 'object', 'combined'] as const;
/** individual: each document on its own; object: documents grouped per batch; combined: all documents as one input. */
export type JobStrategy = (typeof JOB_STRATEGIES)[number];

export interface ManifestDocument {
  docId: string;
  name: string;
  contentType: string;
  size: number;
  /** Object key of the uploaded document. */
  key: string;
  etag?: string;
}

/** What one step does: the documents it handles, and how they form inputs. */
export interface ManifestChunk {
  index: number;
  /** Each input is one crew run; with `combined` an input holds every document. */
  inputs: { inputId: string; docIds: string[] }[];
}

export interface JobManifest {
  version: typeof JOB_MANIFEST_VERSION;
  jobId: string;
  /** The owner, or for a team's job the member who started it. */
  userId: string;
  /** The team that owns the job, when a team does: its objects are under `teams/{team_id}/jobs/`. */
  teamId?: string;
  /** A built-in crew name (`summarize`, `translate`, ...) or an inline crew definition. */
  crew: string | Record<string, unknown>;
  params: Record<string, string>;
  strategy: JobStrategy;
  /** Provider and model for agents whose crew leaves them open (`offline` by default). */
  model: { provider: string; model: string };
  /**
   * The stored provider key the job runs with (its id, never the key): the step asks the platform for it with a
   * signed request (`POST {callback base}/jobs/{job_id}/provider-key`), which the vault answers while the job's
   * grant lives.
   */
  apiKeyId?: string;
  documents: ManifestDocument[];
  chunks: ManifestChunk[];
  /** Outputs go under `users/{user_id}/jobs/{job_id}/outputs/` (`teams/{team_id}/jobs/…` for a team's job). */
  outputPrefix: string;
  limits: { maxDocumentBytes: number; chunkTokens: number; modelConcurrency: number };
}

/**
 * Whose a job is: the team's when `teamId` is set (`userId` is then the member who started it), otherwise the
 * user's. Its objects live under the owner: a member's account deletion leaves the team's jobs alone.
 */
export interface JobOwner {
  userId: string;
  teamId?: string | null;
}

/** A user id alone means the user's own job. */
function ownerPrefix(owner: string | JobOwner): string {
  if (typeof owner === 'string') return userJobsPrefix(owner);
  return owner.teamId ? teamJobsPrefix(owner.teamId) : userJobsPrefix(owner.userId);
}

export function jobManifestKey(owner: string | JobOwner, jobId: string): string {
  return `${ownerPrefix(owner)}${jobId}/manifest.json`;
}

/** Everything the jobs of a user keep in storage (manifests, outputs): removed when the user is deleted. */
export function userJobsPrefix(userId: string): string {
  return `users/${userId}/jobs/`;
}

/** Everything the jobs of a team keep in storage (manifests, outputs). */
export function teamJobsPrefix(teamId: string): string {
  return `teams/${teamId}/jobs/`;
}

export function jobOutputPrefix(owner: string | JobOwner, jobId: string): string {
  return `${ownerPrefix(owner)}${jobId}/outputs/`;
}

// ---- events the step reports ----

export const JOB_STAGES = ['extract', 'transform', 'load'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

export const JOB_EVENT_TYPES = [
  'job_started',
  'stage_started',
  'stage_progress',
  'stage_completed',
  'doc_completed',
  'doc_failed',
  'heartbeat',
  'job_completed',
  'job_failed',
  'job_cancelled',
] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

export type FailureKind = 'retryable' | 'permanent';

export interface JobEvent {
  /**
   * Stable for the same fact, so a step that reruns after a crash sends the same ids and the receiver
   * ignores the duplicates: `<jobId>:<chunk>:<inputId>:<type>[:<stage>]`.
   */
  id: string;
  jobId: string;
  type: JobEventType;
  at: string;
  chunk?: number;
  inputId?: string;
  docIds?: string[];
  stage?: JobStage;
  /** 0..100 within the stage. */
  progress?: number;
  message?: string;
  output?: { markdownKey: string; sidecarKey: string; bytes: number };
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number };
  error?: { kind: FailureKind; message: string };
}

/** Exit codes of the worker step. Argo's retryStrategy retries only `RETRYABLE`. */
export const WorkerExitCode = {
  /** Every input of the chunk was transformed. */
  OK: 0,
  /** Bad arguments or configuration. */
  USAGE: 64,
  /** The step's work is done, but some inputs failed for good (unreadable, empty, oversize...). */
  PERMANENT: 65,
  /** Something transient failed (network, storage, model 429/5xx); a rerun continues where it stopped. */
  RETRYABLE: 75,
} as const;

// ---- callback signing ----

export const CALLBACK_TIMESTAMP_HEADER = 'x-docflow-timestamp';
export const CALLBACK_SIGNATURE_HEADER = 'x-docflow-signature';
/** Callbacks older or newer than this are refused. */
export const CALLBACK_WINDOW_SECONDS = 300;
