/**
 * Where job steps run. One interface, two drivers: `argo` (a Workflow per job on Kubernetes, from the
 * `docflow-transform` WorkflowTemplate) and `local` (the same worker entrypoint as child processes).
 * Every step runs `docflow-worker run --job <id> --manifest s3://<bucket>/<key> --chunk <n>` with the same
 * environment; the per-job callback secret reaches it as an environment variable (a Kubernetes Secret for
 * argo), never as a workflow parameter.
 */

export const WORKFLOW_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Error'] as const;
export type WorkflowPhase = (typeof WORKFLOW_PHASES)[number];

export interface SubmitWorkflowRequest {
  jobId: string;
  userId: string;
  /** Object key of the job manifest in `bucket`. */
  manifestKey: string;
  bucket: string;
  /** How many chunks the manifest has: steps `0 .. chunkCount - 1`. */
  chunkCount: number;
  /**
   * Resuming a job (local engine, after a restart of the jobs service): only these chunks run. The argo
   * driver ignores it: a Workflow outlives the jobs service, so there is nothing to resume.
   */
  chunks?: number[];
  /** How many steps may run at once. */
  parallelism: number;
  /** The per-job HMAC secret for callbacks. Drivers hand it to the steps privately (Secret / env). */
  callbackSecret: string;
  /** The step's whole run time is capped (activeDeadlineSeconds for argo). */
  deadlineSeconds: number;
  /** Team or user whose concurrent model calls share one semaphore. */
  concurrencyKey: string;
}

export interface WorkflowStatus {
  jobId: string;
  workflowName: string;
  phase: WorkflowPhase;
  /** True once a cancel (shutdown) was requested. */
  stopping?: boolean;
  /**
   * argo: the Workflow is still suspended, as submit creates it until its Secret exists: no step runs (Argo
   * enforces no deadline on it either). A submit that did not finish (the jobs service stopped in between)
   * leaves it so; submitting the job again creates what is missing and resumes it.
   */
  suspended?: boolean;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface WorkflowEngine {
  readonly kind: 'argo' | 'local';
  /** Optional: done once at start-up, before the first submit (compiling validators, loading clients). */
  prepare?(): Promise<void>;
  /** Starts the steps of a job. Submitting the same job twice starts it once. */
  submit(request: SubmitWorkflowRequest): Promise<{ workflowName: string }>;
  /** Stops the job's steps (argo: `spec.shutdown: Stop`, exit handlers still run; local: the process groups end). */
  cancel(jobId: string): Promise<void>;
  /** The current status, or undefined when the engine knows no workflow for the job. */
  status(jobId: string): Promise<WorkflowStatus | undefined>;
  /**
   * Follows every docflow workflow until `signal` aborts, calling `onStatus` on each change; resumes by
   * itself after a dropped connection. Used to reconcile jobs whose callbacks were lost.
   */
  watch(onStatus: (status: WorkflowStatus) => void, signal: AbortSignal): Promise<void>;
}

/** Labels every docflow workflow carries. */
export const WORKFLOW_LABELS = {
  app: 'app.kubernetes.io/part-of',
  jobId: 'docflow.io/job-id',
  userId: 'docflow.io/user-id',
} as const;

/** A Kubernetes-safe workflow name for a job. */
export function workflowNameFor(jobId: string): string {
  return `docflow-job-${jobId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}
