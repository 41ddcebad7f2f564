import {
  JOB_VIEW_DOCUMENTS,
  type Schedule,
  type ScheduleDocumentsView,
  type ScheduleRun,
} from '@docflow/contracts';
import type { ScheduleRunEntity } from './schedule-run.entity';
import type { ScheduleEntity } from './schedule.entity';
import type { Timing } from './slots';

export function timingOf(entity: ScheduleEntity): Timing {
  return {
    cron: entity.cron,
    every: entity.every,
    at: entity.at,
    dayOfWeek: entity.dayOfWeek,
    dayOfMonth: entity.dayOfMonth,
    timezone: entity.timezone,
  };
}

export function toScheduleRun(entity: ScheduleRunEntity): ScheduleRun {
  return {
    id: entity.id,
    scheduleId: entity.scheduleId,
    slotAt: entity.slotAt.toISOString(),
    status: entity.status,
    jobIds: entity.jobIds,
    ...(entity.documentCount !== null ? { documentCount: entity.documentCount } : {}),
    ...(entity.error ? { error: entity.error } : {}),
    attempts: entity.attempts,
    createdAt: entity.createdAt.toISOString(),
    ...(entity.finishedAt ? { finishedAt: entity.finishedAt.toISOString() } : {}),
  };
}

/** `lastRun` is the schedule's latest run; `lastLaunched` its latest run that started jobs. */
export function toSchedule(
  entity: ScheduleEntity,
  lastRun?: ScheduleRunEntity,
  lastLaunched?: ScheduleRunEntity,
  maxDocIds = JOB_VIEW_DOCUMENTS,
): Schedule {
  const documents: ScheduleDocumentsView =
    'docIds' in entity.documents
      ? {
          docIds: entity.documents.docIds.slice(0, maxDocIds),
          docCount: entity.documents.docIds.length,
          truncated: entity.documents.docIds.length > maxDocIds,
        }
      : entity.documents;
  const lastJobId = lastLaunched?.jobIds.at(-1);
  return {
    id: entity.id,
    userId: entity.userId,
    ...(entity.name ? { name: entity.name } : {}),
    ...(entity.cron ? { cron: entity.cron } : {}),
    ...(entity.every ? { every: entity.every } : {}),
    ...(entity.at ? { at: entity.at } : {}),
    ...(entity.dayOfWeek ? { dayOfWeek: entity.dayOfWeek } : {}),
    ...(entity.dayOfMonth !== null ? { dayOfMonth: entity.dayOfMonth } : {}),
    timezone: entity.timezone,
    documents,
    crew: entity.crew,
    strategy: entity.strategy,
    options: entity.options,
    catchUp: entity.catchUp,
    enabled: entity.enabled,
    ...(entity.nextRunAt ? { nextRunAt: entity.nextRunAt.toISOString() } : {}),
    ...(lastRun ? { lastRunAt: lastRun.slotAt.toISOString(), lastRun: toScheduleRun(lastRun) } : {}),
    ...(lastJobId ? { lastJobId } : {}),
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
  };
}
