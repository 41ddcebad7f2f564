import type { Page, PageQuery } from './pagination';
import type { JobEvent, JobStage, JobStrategy } from './jobs';

export const JobsSubjects = {
  healthCheck: 'jobs.health.check',
  jobCreate: 'jobs.job.create',
  jobGet: 'jobs.job.get',
  jobList: 'jobs.job.list',
  jobCancel: 'jobs.job.cancel',
  /** A job's inputs, paged (a job may hold thousands). */
  jobInputs: 'jobs.job.inputs',
  /** A job's stored events after an SSE id, paged: the history JetStream no longer holds (see JobEventPage). */
  jobEvents: 'jobs.job.events',
  /** A step's signed callback, verified and applied by the jobs service. */
  eventRecord: 'jobs.event.record',
  /** A step's signed request for its job's provider key (answered from the vault while the job's grant lives). */
  stepProviderKey: 'jobs.step.provider-key',
} as const;

/** JetStream: every job event, on `jobs.events.<job_id>`, kept in the stream `JOB_EVENTS`. */
export const JOB_EVENTS_STREAM = 'JOB_EVENTS';
export const jobEventsSubject = (jobId: string) => `jobs.events.${jobId}`;

export const JOB_STATUSES = [
  'queued',
  'submitted',
  'running',
  'completed',
  'completed_with_errors',
  'failed',
  'cancelled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = [
  'completed',
  'completed_with_errors',
  'failed',
  'cancelled',
];

export const JOB_DOCUMENT_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobDocumentStatus = (typeof JOB_DOCUMENT_STATUSES)[number];

export interface JobDocument {
  docId: string;
  inputId: string;
  status: JobDocumentStatus;
  stage?: JobStage;
  progress: number;
  outputDocId?: string;
  error?: string;
}

export interface Job {
  id: string;
  /** The owner, or for a team's job the member who started it. */
  userId: string;
  /** The team that owns the job, when a team does: its documents are the team's, and so are its outputs. */
  teamId?: string;
  status: JobStatus;
  crew: string;
  strategy: JobStrategy;
  /**
   * `object` jobs only: how many documents form one input. The documents (in request order, repeats dropped) are
   * cut into consecutive groups of this many, the last group holding the rest.
   */
  batchSize?: number;
  params: Record<string, string>;
  docIds: string[];
  documents: JobDocument[];
  /** 0..100 over every document's extract → transform → load. */
  progress: number;
  outputDocIds: string[];
  /** How many documents and inputs the job has in all. */
  documentCount: number;
  inputCount: number;
  /**
   * True when `docIds`, `documents` and `outputDocIds` list only the first ones (1,000 for one job, 20 per job
   * in a list): the whole set is at `GET …/jobs/{job_id}/inputs`, paged.
   */
  truncated: boolean;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
  engine: 'local' | 'argo';
  error?: string;
  createdAt: string;
  updatedAt: string;
  submittedAt?: string;
  startedAt?: string;
  finishedAt?: string;
}

/**
 * `userId` alone: the user's own job over the user's own documents. With `teamId`: a job of the team over the
 * team's documents, started by member `userId` (the gateway has checked `job.create`); outputs become the team's
 * documents and the team's semaphore caps its concurrent steps.
 */
export interface CreateJobRequest {
  userId: string;
  teamId?: string;
  docIds: string[];
  crew?: string;
  flowId?: string;
  strategy?: JobStrategy;
  options?: {
    params?: Record<string, string>;
    model?: { provider: string; model: string };
    /** A stored provider key of the user (`POST /apikeys`) the job's steps use. */
    apiKeyId?: string;
    /** `object` only: documents per input, {@link OBJECT_BATCH_SIZE_MIN} to {@link OBJECT_BATCH_SIZE_MAX}. */
    batchSize?: number;
  };
  idempotencyKey?: string;
}

/** How many documents an `object` job puts in one input: `options.batchSize`, 10 unless given. */
export const OBJECT_BATCH_SIZE_DEFAULT = 10;
export const OBJECT_BATCH_SIZE_MIN = 1;
export const OBJECT_BATCH_SIZE_MAX = 100;

/** A job of the user (`teamId` absent) or of the team; another owner's job answers NOT_FOUND. */
export interface JobRef {
  userId: string;
  teamId?: string;
  jobId: string;
}

/**
 * Every filter narrows the list (AND); within `status`, any of the statuses. Paging with `cursor` goes on through
 * the same filtered list (send the same filters with each page).
 */
export interface ListJobsRequest extends PageQuery {
  userId: string;
  /** The team's jobs instead of the user's own. */
  teamId?: string;
  /** One status, or several: jobs in any of them. */
  status?: JobStatus | JobStatus[];
  /** The crew's exact name. */
  crew?: string;
  strategy?: JobStrategy;
  /** ISO 8601 instants: jobs created at or after `createdAfter`, and before `createdBefore` ([after, before)). */
  createdAfter?: string;
  createdBefore?: string;
  /** Jobs that have this document among their inputs. */
  docId?: string;
}

export type JobPage = Page<Job>;

/** One input of a job: one document, a batch of them (`object`), or all of them (`combined`). */
export interface JobInput {
  inputId: string;
  name: string;
  /** The step (chunk) that handles it. */
  chunk: number;
  docIds: string[];
  status: JobDocumentStatus;
  stage?: JobStage;
  progress: number;
  outputDocId?: string;
  error?: string;
}

export type JobInputPage = Page<JobInput>;

export interface ListJobInputsRequest extends JobRef, PageQuery {
  status?: JobDocumentStatus;
}

/** How many documents a job view lists: one job, and each job of a list. */
export const JOB_VIEW_DOCUMENTS = 1_000;
export const JOB_LIST_VIEW_DOCUMENTS = 20;

export interface RecordEventRequest {
  jobId: string;
  timestamp?: string;
  signature?: string;
  /** The raw body, exactly as signed. */
  body: string;
}

/** A step asks for its job's provider key: signed like a callback, the body `{"keyId": "<id>"}`. */
export type StepProviderKeyRequest = RecordEventRequest;

/**
 * JetStream: callbacks the gateway accepted while the jobs service could not be reached, on
 * `jobs.callbacks.<job_id>` in the work-queue stream `JOB_CALLBACKS`. The jobs service consumes them with the
 * durable consumer `jobs` when it is back: a step's events are never lost to a jobs-service outage.
 */
export const JOB_CALLBACKS_STREAM = 'JOB_CALLBACKS';
export const JOB_CALLBACKS_CONSUMER = 'jobs';
export const jobCallbacksSubject = (jobId: string) => `jobs.callbacks.${jobId}`;

/** A buffered callback: the request as received, and when (the 5-minute window counts from then). */
export interface BufferedCallback extends RecordEventRequest {
  /** Unix seconds at which the gateway received it. */
  receivedAt: number;
}

export interface RecordEventResult {
  accepted: true;
  duplicate: boolean;
  /** The jobs service was unavailable: the callback waits in JetStream and is applied when it is back. */
  buffered?: boolean;
}

/**
 * What the events stream carries (SSE `data:`); the SSE `id:` is the JetStream sequence (or, for an event whose
 * sequence the jobs service never recorded, its row id: see {@link parseJobEventId}).
 */
export type JobStreamEvent = Pick<JobEvent, 'type' | 'at'> &
  Partial<JobEvent> & { jobId: string; status?: JobStatus; progress?: number };

// ---- a job's stored events (the SSE history once JetStream no longer holds it) ----

/**
 * The SSE id of a stored event whose JetStream sequence the jobs service never recorded (published before it
 * kept them): `pg-<row>`, the event's row in `jobs.job_events`. Every other event's id is its sequence.
 */
export const JOB_EVENT_ROW_ID_PREFIX = 'pg-';

/** A parsed SSE id: a JetStream sequence (0: before the first event), or a stored event's row. */
export type JobEventPosition = { seq: number } | { row: string };

/**
 * Parses an SSE id a job's event stream sent (`Last-Event-ID`): digits (a JetStream sequence) or `pg-<digits>`
 * (a stored event's row); undefined for anything else.
 */
export function parseJobEventId(id: string): JobEventPosition | undefined {
  if (/^\d{1,15}$/.test(id)) return { seq: Number(id) };
  const row = /^pg-(\d{1,18})$/.exec(id);
  return row ? { row: String(BigInt(row[1]!)) } : undefined;
}

export function jobEventRowId(row: string): string {
  return `${JOB_EVENT_ROW_ID_PREFIX}${row}`;
}

/** The SSE ids a job's event stream sends, as a pattern (`Last-Event-ID`). */
export const JOB_EVENT_ID_PATTERN = '^(\\d{1,15}|pg-\\d{1,18})$';

export interface ListJobEventsRequest extends JobRef {
  /**
   * The SSE id after which to start (absent: from the first event). A sequence stands after the last stored
   * event published at or before it; `pg-<row>` after that row (see {@link JobEventPage}).
   */
  after?: string;
  /** 1 to 500, default 200; a page also stops before 512 KB of events. */
  limit?: number;
}

/** One stored event as the SSE stream sends it: `id:`, `event:` (its type) and `data:`. */
export interface StoredJobEvent {
  id: string;
  type: string;
  data: JobStreamEvent;
}

/**
 * A job's stored events, in the order they were stored (the order they were published), that were or are to be
 * published: up to and including the job's final event; an event stored after it (a late callback, kept for the
 * record) was never published and is not listed. Each `id` is the event's JetStream sequence when the jobs
 * service recorded it (when JetStream acknowledged the publish), `pg-<row>` otherwise.
 */
export interface JobEventPage {
  items: StoredJobEvent[];
  /** Pass it as `after` for the next page; absent on the last. */
  nextCursor?: string;
  /** Events of the job still in the outbox (not yet published, so not listed): JetStream has them shortly. */
  pending: boolean;
}

export const JOB_EVENT_PAGE_LIMIT_DEFAULT = 200;
export const JOB_EVENT_PAGE_LIMIT_MAX = 500;
