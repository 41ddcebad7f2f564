import type { Page, PageQuery } from './pagination';
import type { JobStrategy } from './jobs';
import type { DocumentKind } from './users-docs';

/** The schedules API, served by the jobs service (its scheduler launches the jobs). */
export const SchedulesSubjects = {
  scheduleCreate: 'jobs.schedule.create',
  scheduleGet: 'jobs.schedule.get',
  scheduleList: 'jobs.schedule.list',
  /** Pause, resume or rename. */
  scheduleUpdate: 'jobs.schedule.update',
  scheduleDelete: 'jobs.schedule.delete',
  runList: 'jobs.schedule-run.list',
} as const;

export const SCHEDULE_EVERY = ['daily', 'weekly', 'monthly'] as const;
export type ScheduleEvery = (typeof SCHEDULE_EVERY)[number];

export const WEEKDAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * What happens to slots that passed while no scheduler was running: `latest` runs the most recent of them
 * once (never each of them), `skip` records it as `missed` and waits for the next slot.
 */
export const SCHEDULE_CATCH_UP = ['latest', 'skip'] as const;
export type ScheduleCatchUp = (typeof SCHEDULE_CATCH_UP)[number];

/**
 * `pending`: claimed, its jobs not created yet (retried until they are); `launched`: its jobs were created;
 * `skipped`: the filter matched no uploaded document; `failed`: the jobs could not be created (the error
 * says why); `missed`: a slot that passed while the scheduler was down, with `catchUp: skip`.
 */
export const SCHEDULE_RUN_STATUSES = ['pending', 'launched', 'skipped', 'failed', 'missed'] as const;
export type ScheduleRunStatus = (typeof SCHEDULE_RUN_STATUSES)[number];

export interface ScheduleDocumentFilter {
  /** `upload` by default, so a schedule never feeds on the outputs of its own jobs unless asked to. */
  kind?: DocumentKind;
  /** An exact content type, or `type/*` for every subtype. */
  contentType?: string;
  /** Only documents uploaded after the slot of the last run that launched (or had nothing to launch). */
  uploadedSinceLastRun?: boolean;
}

/** Which documents a run takes: fixed ids, or the user's uploaded documents that match a filter at the slot. */
export type ScheduleDocuments = { docIds: string[] } | { filter: ScheduleDocumentFilter };

/**
 * How a schedule shows its documents: fixed ids (the first JOB_VIEW_DOCUMENTS, JOB_LIST_VIEW_DOCUMENTS in a
 * list, so no reply outgrows NATS's 1 MB; `docCount` and `truncated` tell the rest), or its filter.
 */
export type ScheduleDocumentsView =
  { docIds: string[]; docCount: number; truncated: boolean } | { filter: ScheduleDocumentFilter };

export interface ScheduleJobOptions {
  params?: Record<string, string>;
  model?: { provider: string; model: string };
  /** A provider key of the user's, granted to each job a run starts (checked then: a run fails if it is gone). */
  apiKeyId?: string;
  /** `object` only: documents per input, as `POST /jobs` takes it. */
  batchSize?: number;
}

export interface ScheduleRun {
  id: string;
  scheduleId: string;
  /** The slot this run is for (a time the schedule names, or the creation time with `runNow`). */
  slotAt: string;
  status: ScheduleRunStatus;
  /** The jobs it launched: one, or several when the documents exceed one job's limit. */
  jobIds: string[];
  documentCount?: number;
  error?: string;
  attempts: number;
  createdAt: string;
  finishedAt?: string;
}

export interface Schedule {
  id: string;
  userId: string;
  name?: string;
  /** Either a five-field cron expression, or `every` with `at` (and `dayOfWeek` / `dayOfMonth`). */
  cron?: string;
  every?: ScheduleEvery;
  /** `HH:MM` in `timezone`. */
  at?: string;
  dayOfWeek?: Weekday;
  /** 1–31; in shorter months the last day of the month. */
  dayOfMonth?: number;
  /** IANA time zone the slots are computed in (daylight-saving time included). */
  timezone: string;
  documents: ScheduleDocumentsView;
  crew: string;
  strategy: JobStrategy;
  options: ScheduleJobOptions;
  catchUp: ScheduleCatchUp;
  enabled: boolean;
  /** Absent while paused. */
  nextRunAt?: string;
  lastRunAt?: string;
  lastJobId?: string;
  lastRun?: ScheduleRun;
  createdAt: string;
  updatedAt: string;
}

export interface CreateScheduleRequest {
  userId: string;
  name?: string;
  cron?: string;
  every?: ScheduleEvery;
  at?: string;
  dayOfWeek?: Weekday;
  dayOfMonth?: number;
  timezone: string;
  documents: { docIds?: string[]; filter?: ScheduleDocumentFilter };
  crew?: string;
  flowId?: string;
  strategy?: JobStrategy;
  options?: ScheduleJobOptions;
  catchUp?: ScheduleCatchUp;
  /** Created paused when false. */
  enabled?: boolean;
  /** The first run is due at once (its slot is the creation time); later runs follow the schedule. */
  runNow?: boolean;
}

export interface ScheduleRef {
  userId: string;
  scheduleId: string;
}

export interface UpdateScheduleRequest extends ScheduleRef {
  name?: string | null;
  /** false pauses (no slot runs while paused); true resumes from the next slot after now. */
  enabled?: boolean;
}

export interface ListSchedulesRequest extends PageQuery {
  userId: string;
}

export interface ListScheduleRunsRequest extends ScheduleRef, PageQuery {}

export type SchedulePage = Page<Schedule>;
export type ScheduleRunPage = Page<ScheduleRun>;
