import { isDnsLabel, isLabelValue } from '../argo-validation/crd-rules';
import {
  WORKFLOW_LABELS,
  WORKFLOW_PHASES,
  workflowNameFor,
  type SubmitWorkflowRequest,
  type WorkflowPhase,
  type WorkflowStatus,
} from '../workflow-engine';

export const ARGO_GROUP = 'argoproj.io';
export const ARGO_VERSION = 'v1alpha1';
export const ARGO_API_VERSION = `${ARGO_GROUP}/${ARGO_VERSION}`;
export const WORKFLOWS_PLURAL = 'workflows';

/** The WorkflowTemplate in argo-templates/docflow-transform.yaml. */
export const DOCFLOW_WORKFLOW_TEMPLATE = 'docflow-transform';
/** The key of the per-job Secret the template reads DOCFLOW_CALLBACK_SECRET from. */
export const JOB_SECRET_KEY = 'callback-secret';
/** `app.kubernetes.io/part-of` of everything docflow creates. */
export const DOCFLOW_PART_OF = 'docflow';
export const DOCFLOW_LABEL_SELECTOR = `${WORKFLOW_LABELS.app}=${DOCFLOW_PART_OF}`;

/** The template's parameters, as the driver sends them. */
export const WORKFLOW_PARAMETERS = {
  jobId: 'job-id',
  userId: 'user-id',
  manifestKey: 'manifest-key',
  bucket: 'bucket',
  parallelism: 'parallelism',
  concurrencyKey: 'concurrency-key',
  image: 'image',
} as const;

export interface ArgoPodGC {
  strategy?: 'OnPodCompletion' | 'OnPodSuccess' | 'OnWorkflowCompletion' | 'OnWorkflowSuccess';
  deleteDelayDuration?: string;
}

export interface ArgoTTLStrategy {
  secondsAfterCompletion?: number;
  secondsAfterSuccess?: number;
  secondsAfterFailure?: number;
}

export interface ArgoObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}

/** The parts of an Argo Workflow the driver writes and reads. */
export interface ArgoWorkflow {
  apiVersion: typeof ARGO_API_VERSION;
  kind: 'Workflow';
  metadata: ArgoObjectMeta;
  spec: {
    workflowTemplateRef?: { name: string; clusterScope?: boolean };
    arguments?: { parameters?: { name: string; value: string }[] };
    parallelism?: number;
    activeDeadlineSeconds?: number;
    podGC?: ArgoPodGC;
    ttlStrategy?: ArgoTTLStrategy;
    shutdown?: string;
    /** Set when submit creates it; removed (merge-patch null) once its Secret exists. */
    suspend?: boolean;
    [field: string]: unknown;
  };
  status?: {
    phase?: string;
    message?: string;
    startedAt?: string | null;
    finishedAt?: string | null;
    [field: string]: unknown;
  };
}

export interface WorkflowManifestOptions {
  namespace: string;
  /** Default {@link DOCFLOW_WORKFLOW_TEMPLATE}. */
  templateName?: string;
  /** Overrides the template's default worker image. */
  image?: string;
  /** Default: delete a pod once it succeeded, after a minute; failed pods stay until the workflow goes. */
  podGC?: ArgoPodGC;
  /** Default: a succeeded workflow is deleted after an hour, a failed one after a day. */
  ttlStrategy?: ArgoTTLStrategy;
}

export const DEFAULT_POD_GC: ArgoPodGC = { strategy: 'OnPodSuccess', deleteDelayDuration: '60s' };
export const DEFAULT_TTL_STRATEGY: ArgoTTLStrategy = {
  secondsAfterSuccess: 3600,
  secondsAfterFailure: 86400,
};

/** `docflow-job-<jobId>`, which is also the workflow's name: {@link assertSubmittable} makes sure of it. */
export function jobSecretNameFor(jobId: string): string {
  return `docflow-job-${jobId}`;
}

/**
 * A key of the `docflow-semaphores` ConfigMap for a team or user: ConfigMap keys allow `[-._a-zA-Z0-9]`, so
 * anything else becomes `-`; empty means `default`.
 */
export function semaphoreKeyFor(concurrencyKey: string): string {
  const key = concurrencyKey
    .trim()
    .replace(/[^-._a-zA-Z0-9]/g, '-')
    .slice(0, 253);
  return key === '' || /^\.+$/.test(key) ? 'default' : key;
}

const MAX_JOB_ID = 63 - 'docflow-job-'.length;

/** Refuses a request the template cannot run, before anything is created. */
export function assertSubmittable(request: SubmitWorkflowRequest): void {
  const problems: string[] = [];
  if (!isDnsLabel(request.jobId) || request.jobId.length > MAX_JOB_ID)
    problems.push(
      `jobId must be lower-case alphanumerics and '-' (at most ${MAX_JOB_ID} characters): it names the Secret ` +
        `docflow-job-<jobId> and labels the workflow`,
    );
  if (!request.userId || !isLabelValue(request.userId))
    problems.push('userId must be a valid label value (alphanumerics, -, _, ., at most 63 characters)');
  if (!request.manifestKey) problems.push('manifestKey is required');
  if (!request.bucket) problems.push('bucket is required');
  if (!request.callbackSecret) problems.push('callbackSecret is required');
  for (const field of ['chunkCount', 'parallelism', 'deadlineSeconds'] as const)
    if (!Number.isSafeInteger(request[field]) || request[field] < 1)
      problems.push(`${field} must be an integer >= 1`);
  if (problems.length)
    throw new Error(`Cannot submit job ${JSON.stringify(request.jobId)}: ${problems.join('; ')}`);
}

/** The Workflow for a job: a reference to the template plus ids and keys. Nothing secret goes in here. */
export function buildWorkflow(
  request: SubmitWorkflowRequest,
  options: WorkflowManifestOptions,
): ArgoWorkflow {
  const parameters: Record<string, string> = {
    [WORKFLOW_PARAMETERS.jobId]: request.jobId,
    [WORKFLOW_PARAMETERS.userId]: request.userId,
    [WORKFLOW_PARAMETERS.manifestKey]: request.manifestKey,
    [WORKFLOW_PARAMETERS.bucket]: request.bucket,
    [WORKFLOW_PARAMETERS.parallelism]: String(request.parallelism),
    [WORKFLOW_PARAMETERS.concurrencyKey]: semaphoreKeyFor(request.concurrencyKey),
  };
  if (options.image) parameters[WORKFLOW_PARAMETERS.image] = options.image;
  return {
    apiVersion: ARGO_API_VERSION,
    kind: 'Workflow',
    metadata: {
      name: workflowNameFor(request.jobId),
      namespace: options.namespace,
      labels: {
        [WORKFLOW_LABELS.app]: DOCFLOW_PART_OF,
        [WORKFLOW_LABELS.jobId]: request.jobId,
        [WORKFLOW_LABELS.userId]: request.userId,
      },
    },
    spec: {
      workflowTemplateRef: { name: options.templateName ?? DOCFLOW_WORKFLOW_TEMPLATE },
      arguments: { parameters: Object.entries(parameters).map(([name, value]) => ({ name, value })) },
      // Integers in the CRD, so they are set here rather than through template parameters.
      parallelism: request.parallelism,
      activeDeadlineSeconds: request.deadlineSeconds,
      podGC: options.podGC ?? DEFAULT_POD_GC,
      ttlStrategy: options.ttlStrategy ?? DEFAULT_TTL_STRATEGY,
    },
  };
}

/**
 * The per-job Secret the template's steps read DOCFLOW_CALLBACK_SECRET from, created already owned by the job's
 * Workflow (read back from the API server, for its uid), so that Kubernetes' garbage collector deletes it with
 * the Workflow and the driver never has to patch or delete it.
 */
export function buildJobSecret(request: SubmitWorkflowRequest, namespace: string, owner: ArgoWorkflow) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: jobSecretNameFor(request.jobId),
      namespace,
      labels: { [WORKFLOW_LABELS.app]: DOCFLOW_PART_OF, [WORKFLOW_LABELS.jobId]: request.jobId },
      ownerReferences: [ownerReferenceTo(owner)],
    },
    type: 'Opaque',
    stringData: { [JOB_SECRET_KEY]: request.callbackSecret },
  };
}

/**
 * Makes the Secret a dependent of the workflow, so Kubernetes' garbage collector deletes it with it.
 * `blockOwnerDeletion: false`: `true` would need `update` on `workflows/finalizers` where the
 * OwnerReferencesPermissionEnforcement admission plugin runs, and nothing needs the Workflow's deletion to wait.
 */
export function ownerReferenceTo(workflow: ArgoWorkflow) {
  if (!workflow.metadata.name || !workflow.metadata.uid)
    throw new Error('The workflow has no name or uid: it was not read back from the API server');
  return {
    apiVersion: ARGO_API_VERSION,
    kind: 'Workflow',
    name: workflow.metadata.name,
    uid: workflow.metadata.uid,
    blockOwnerDeletion: false,
  };
}

/** A Workflow as a {@link WorkflowStatus}: no phase yet (the controller has not seen it) is `Pending`. */
export function toWorkflowStatus(workflow: ArgoWorkflow): WorkflowStatus {
  const name = workflow.metadata.name ?? '';
  const phase = workflow.status?.phase;
  const status: WorkflowStatus = {
    jobId: workflow.metadata.labels?.[WORKFLOW_LABELS.jobId] ?? name.replace(/^docflow-job-/, ''),
    workflowName: name,
    phase: WORKFLOW_PHASES.includes(phase as WorkflowPhase) ? (phase as WorkflowPhase) : 'Pending',
  };
  if (workflow.spec?.shutdown) status.stopping = true;
  if (workflow.spec?.suspend === true) status.suspended = true;
  if (workflow.status?.message) status.message = workflow.status.message;
  if (workflow.status?.startedAt) status.startedAt = workflow.status.startedAt;
  if (workflow.status?.finishedAt) status.finishedAt = workflow.status.finishedAt;
  return status;
}

export function isFinished(status: WorkflowStatus): boolean {
  return status.phase === 'Succeeded' || status.phase === 'Failed' || status.phase === 'Error';
}
