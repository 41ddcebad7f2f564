import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  JOB_LIST_VIEW_DOCUMENTS,
  JOB_VIEW_DOCUMENTS,
  PAGE_LIMIT_DEFAULT,
  UsersDocsSubjects,
  type CreateScheduleRequest,
  type ListScheduleRunsRequest,
  type ListSchedulesRequest,
  type ResolvedDocument,
  type Schedule,
  type SchedulePage,
  type ScheduleRef,
  type ScheduleRunPage,
  type UpdateScheduleRequest,
  type User,
} from '@docflow/contracts';
import { decodeCursor, toPage } from '@docflow/database';
import { ServiceClient } from '@docflow/messaging';
import { Clock } from '../common/clock';
import { JOBS_CONFIG, type JobsConfig } from '../config';
import { ScheduleEntity } from './schedule.entity';
import { timingOf, toSchedule, toScheduleRun } from './schedule.mapper';
import { checkCatchUp, checkDocuments, checkJobSpec, checkName } from './schedule-spec';
import { Scheduler } from './scheduler';
import { SchedulesRepository } from './schedules.repository';
import { SlotSeries, normalizeTiming } from './slots';

/** The schedules API: what a schedule is, checked at creation so a bad one fails now rather than at 3 a.m. */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly schedules: SchedulesRepository,
    private readonly services: ServiceClient,
    private readonly scheduler: Scheduler,
    @Inject(JOBS_CONFIG) private readonly config: JobsConfig,
    private readonly clock: Clock,
  ) {}

  async create(request: CreateScheduleRequest): Promise<Schedule> {
    const userId = request.userId.toLowerCase();
    const name = checkName(request.name);
    const timing = normalizeTiming(request);
    const documents = checkDocuments(request.documents, this.config.MAX_DOCS_PER_JOB);
    const job = checkJobSpec(request);
    const catchUp = checkCatchUp(request.catchUp);
    if (request.enabled !== undefined && typeof request.enabled !== 'boolean') {
      throw DomainError.validation('enabled', 'must be a boolean');
    }
    if ('docIds' in documents) {
      // The user's own (404 otherwise) and uploaded (400), as for a job.
      await this.services.send<ResolvedDocument[]>(UsersDocsSubjects.documentResolve, {
        userId,
        docIds: documents.docIds,
      });
    } else {
      await this.services.send<User>(UsersDocsSubjects.userGet, { userId });
    }
    if ((await this.schedules.countForUser(userId)) >= this.config.MAX_SCHEDULES_PER_USER) {
      throw new DomainError(
        ErrorCode.CONFLICT,
        `a user has at most ${this.config.MAX_SCHEDULES_PER_USER} schedules; delete one first`,
      );
    }

    const now = this.clock.now();
    const enabled = request.enabled ?? true;
    const schedule = Object.assign(new ScheduleEntity(), {
      id: randomUUID(),
      userId,
      name,
      ...timing,
      documents,
      ...job,
      catchUp,
      enabled,
      nextRunAt: !enabled ? null : request.runNow ? now : new SlotSeries(timing).next(now),
      createdAt: now,
      updatedAt: now,
    });
    await this.schedules.insert(schedule);
    if (enabled && request.runNow) this.scheduler.wake();
    return toSchedule(schedule);
  }

  async get(ref: ScheduleRef): Promise<Schedule> {
    const schedule = await this.schedules.find(ref.scheduleId.toLowerCase(), ref.userId.toLowerCase());
    if (!schedule) throw DomainError.notFound('schedule');
    return (await this.withRuns([schedule]))[0]!;
  }

  async list(request: ListSchedulesRequest): Promise<SchedulePage> {
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const rows = await this.schedules.list(
      request.userId.toLowerCase(),
      limit + 1,
      request.cursor ? decodeCursor(request.cursor) : undefined,
    );
    const page = toPage(rows, limit, (row) => row);
    return { ...page, items: await this.withRuns(page.items, JOB_LIST_VIEW_DOCUMENTS) };
  }

  /** Pauses (no slot runs while paused), resumes (from the first slot after now), renames. */
  async update(request: UpdateScheduleRequest): Promise<Schedule> {
    if (request.enabled !== undefined && typeof request.enabled !== 'boolean') {
      throw DomainError.validation('enabled', 'must be a boolean');
    }
    const name = request.name === undefined ? undefined : checkName(request.name);
    const updated = await this.schedules.withLockedSchedule(
      request.scheduleId.toLowerCase(),
      request.userId.toLowerCase(),
      async (tx, schedule) => {
        const now = this.clock.now();
        if (name !== undefined) schedule.name = name;
        if (request.enabled === false) {
          schedule.enabled = false;
          schedule.nextRunAt = null;
        } else if (request.enabled === true && !schedule.enabled) {
          schedule.enabled = true;
          schedule.nextRunAt = new SlotSeries(timingOf(schedule)).next(now);
        }
        schedule.updatedAt = now;
        await tx.save(schedule);
        return schedule;
      },
    );
    if (!updated) throw DomainError.notFound('schedule');
    return (await this.withRuns([updated]))[0]!;
  }

  /** No slot runs after this; a run already launching finishes first (its jobs go on as any job). */
  async delete(ref: ScheduleRef): Promise<void> {
    if (!(await this.schedules.delete(ref.scheduleId.toLowerCase(), ref.userId.toLowerCase()))) {
      throw DomainError.notFound('schedule');
    }
  }

  async listRuns(request: ListScheduleRunsRequest): Promise<ScheduleRunPage> {
    const schedule = await this.schedules.find(
      request.scheduleId.toLowerCase(),
      request.userId.toLowerCase(),
    );
    if (!schedule) throw DomainError.notFound('schedule');
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const rows = await this.schedules.listRuns(
      schedule.id,
      limit + 1,
      request.cursor ? decodeCursor(request.cursor) : undefined,
    );
    return toPage(rows, limit, toScheduleRun);
  }

  private async withRuns(schedules: ScheduleEntity[], maxDocIds = JOB_VIEW_DOCUMENTS): Promise<Schedule[]> {
    const ids = schedules.map((s) => s.id);
    const [latest, launched] = await Promise.all([
      this.schedules.latestRuns(ids),
      this.schedules.latestRuns(ids, 'launched'),
    ]);
    return schedules.map((s) => toSchedule(s, latest.get(s.id), launched.get(s.id), maxDocIds));
  }
}
