import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  DomainError,
  ErrorCode,
  UsersDocsSubjects,
  type DocumentPage,
  type ListDocumentsRequest,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { Clock } from '../common/clock';
import { JOBS_CONFIG, type JobsConfig } from '../config';
import { JobsService } from '../jobs/jobs.service';
import type { ScheduleRunEntity } from './schedule-run.entity';
import type { ScheduleEntity } from './schedule.entity';
import { SchedulesRepository } from './schedules.repository';

/** Failures that another attempt cannot fix: the run fails at once. */
const PERMANENT = new Set<ErrorCode>([
  ErrorCode.VALIDATION_FAILED,
  ErrorCode.NOT_FOUND,
  ErrorCode.CONFLICT,
  ErrorCode.FORBIDDEN,
  ErrorCode.PAYLOAD_TOO_LARGE,
  // maxJobsPerDay used up: the slot's run fails with the reason (the next slot tries again), never retried.
  ErrorCode.QUOTA_EXCEEDED,
]);
const LIST_PAGE = 500;
const MAX_BACKOFF_MS = 5 * 60_000;

/** The idempotency key of the `part`-th job of a schedule's slot: a retried launch finds the same job. */
export function scheduledJobKey(scheduleId: string, slotAt: Date, part: number): string {
  return `schedule:${scheduleId}:${slotAt.toISOString()}:${part}`;
}

/**
 * Launches a claimed run: picks its documents (fixed ids, or the user's uploaded documents matching the
 * filter as of the slot), then creates its jobs through `JobsService.create`, each with an idempotency key
 * made of the schedule, the slot and the part, so a launch retried after a crash gets the jobs created the
 * first time instead of new ones. A filter that matches nothing makes a `skipped` run, not a job.
 */
@Injectable()
export class LaunchScheduledRunUseCase {
  private readonly logger = new Logger('Scheduler');

  constructor(
    private readonly jobs: JobsService,
    private readonly services: ServiceClient,
    private readonly schedules: SchedulesRepository,
    @Inject(JOBS_CONFIG) private readonly config: JobsConfig,
    private readonly clock: Clock,
  ) {}

  async execute(tx: EntityManager, run: ScheduleRunEntity, schedule: ScheduleEntity): Promise<void> {
    run.attempts += 1;
    try {
      const docIds = await this.documentsFor(tx, run, schedule);
      if (docIds.length === 0) {
        this.finish(run, 'skipped', 'no uploaded document matches the filter');
        run.documentCount = 0;
      } else {
        run.documentCount = docIds.length;
        const parts = this.partition(docIds, schedule);
        for (const [index, part] of parts.entries()) {
          const job = await this.jobs.create(
            {
              userId: schedule.userId,
              docIds: part,
              crew: schedule.crew,
              strategy: schedule.strategy,
              ...(Object.keys(schedule.options).length ? { options: schedule.options } : {}),
              idempotencyKey: scheduledJobKey(schedule.id, run.slotAt, index),
            },
            // A retry takes the job an earlier attempt launched for this part, even if the documents changed.
            { keyReuse: 'existing' },
          );
          if (!run.jobIds.includes(job.id)) run.jobIds = [...run.jobIds, job.id];
        }
        this.finish(run, 'launched', null);
      }
      this.logger.log({
        msg: 'scheduled run',
        scheduleId: schedule.id,
        slotAt: run.slotAt.toISOString(),
        status: run.status,
        jobIds: run.jobIds,
      });
    } catch (error) {
      const code = error instanceof DomainError ? error.code : ErrorCode.INTERNAL;
      // The run's error is shown to the user: an unexpected failure's details stay in the log.
      const message =
        error instanceof DomainError ? error.message : 'an internal error (the jobs service logged it)';
      if (PERMANENT.has(code) || run.attempts >= this.config.SCHEDULER_MAX_ATTEMPTS) {
        this.finish(run, 'failed', message);
        if (code === ErrorCode.NOT_FOUND && (await this.userIsGone(schedule.userId, message))) {
          // The owner is gone: nothing will ever run again.
          await this.schedules.disable(tx, [schedule.id], this.clock.now());
        }
      } else {
        run.error = message;
        const backoff = Math.min(MAX_BACKOFF_MS, 10_000 * 2 ** (run.attempts - 1));
        run.nextAttemptAt = new Date(this.clock.now().getTime() + backoff);
      }
      this.logger.warn({
        msg: 'scheduled run could not launch',
        scheduleId: schedule.id,
        slotAt: run.slotAt.toISOString(),
        attempts: run.attempts,
        status: run.status,
        error: (error as Error).message,
      });
    }
    await tx.save(run);
  }

  /** True when users-docs says so (a listing says it outright; resolving ids only says "document not found"). */
  private async userIsGone(userId: string, message: string): Promise<boolean> {
    if (/^user not found/.test(message)) return true;
    try {
      await this.services.send(UsersDocsSubjects.userGet, { userId });
      return false;
    } catch (error) {
      return error instanceof DomainError && error.code === ErrorCode.NOT_FOUND;
    }
  }

  private finish(
    run: ScheduleRunEntity,
    status: 'launched' | 'skipped' | 'failed',
    error: string | null,
  ): void {
    run.status = status;
    run.error = error;
    run.nextAttemptAt = null;
    run.finishedAt = this.clock.now();
  }

  /** Jobs of at most MAX_DOCS_PER_JOB documents; `combined` must fit in one. */
  private partition(docIds: string[], schedule: ScheduleEntity): string[][] {
    const size = this.config.MAX_DOCS_PER_JOB;
    if (docIds.length > size && schedule.strategy === 'combined') {
      throw DomainError.validation(
        'documents',
        `${docIds.length} documents match; a combined job takes at most ${size}`,
      );
    }
    const parts: string[][] = [];
    for (let i = 0; i < docIds.length; i += size) parts.push(docIds.slice(i, i + size));
    return parts;
  }

  private async documentsFor(
    tx: EntityManager,
    run: ScheduleRunEntity,
    schedule: ScheduleEntity,
  ): Promise<string[]> {
    const selection = schedule.documents;
    if ('docIds' in selection) return selection.docIds;
    const since = selection.filter.uploadedSinceLastRun
      ? ((await this.schedules.lastCompletedSlotBefore(tx, schedule.id, run.slotAt)) ?? schedule.createdAt)
      : undefined;
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const request: ListDocumentsRequest = {
        userId: schedule.userId,
        limit: LIST_PAGE,
        ...(cursor ? { cursor } : {}),
        filter: {
          status: 'uploaded',
          kind: selection.filter.kind ?? 'upload',
          ...(selection.filter.contentType ? { contentType: selection.filter.contentType } : {}),
          ...(since ? { uploadedAfter: since.toISOString() } : {}),
          // The documents as they were at the slot: a late launch takes what a timely one would have.
          uploadedUntil: run.slotAt.toISOString(),
        },
      };
      const page = await this.services.send<DocumentPage>(UsersDocsSubjects.documentList, request, {
        timeoutMs: 10_000,
      });
      ids.push(...page.items.map((d) => d.id));
      if (ids.length > this.config.SCHEDULE_MAX_DOCS_PER_RUN) {
        throw DomainError.validation(
          'documents.filter',
          `matches more than ${this.config.SCHEDULE_MAX_DOCS_PER_RUN} documents (SCHEDULE_MAX_DOCS_PER_RUN)`,
        );
      }
      cursor = page.nextCursor;
    } while (cursor);
    // Oldest first, so the parts of a large run are stable from one attempt to the next.
    return ids.reverse();
  }
}
