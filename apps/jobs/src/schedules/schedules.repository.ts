import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import type { ScheduleRunStatus } from '@docflow/contracts';
import type { CursorPosition } from '@docflow/database';
import { ScheduleRunEntity } from './schedule-run.entity';
import { ScheduleEntity } from './schedule.entity';

/** What the scheduler decided for a due schedule: the slot it claims, and its next slot. */
export interface ClaimPlan {
  slotAt: Date;
  /** null: the schedule cannot go on (its slots cannot be computed) and is paused. */
  nextRunAt: Date | null;
  /** A slot recorded as finished rather than launched: missed (`catchUp: skip`), or failed. */
  record?: { status: 'missed' | 'failed'; error: string };
}

@Injectable()
export class SchedulesRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(schedule: ScheduleEntity): Promise<void> {
    await this.dataSource.getRepository(ScheduleEntity).insert(schedule);
  }

  countForUser(userId: string): Promise<number> {
    return this.dataSource.getRepository(ScheduleEntity).countBy({ userId });
  }

  find(id: string, userId: string): Promise<ScheduleEntity | null> {
    return this.dataSource.getRepository(ScheduleEntity).findOneBy({ id, userId });
  }

  /** Newest first. */
  list(userId: string, limit: number, after?: CursorPosition): Promise<ScheduleEntity[]> {
    const query = this.dataSource
      .getRepository(ScheduleEntity)
      .createQueryBuilder('s')
      .where('s.user_id = :userId', { userId })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .limit(limit);
    if (after) query.andWhere('(s.created_at, s.id) < (:createdAt, :id)', after);
    return query.getMany();
  }

  /** The latest run (by slot) of each schedule, in one query; only runs in `status` when given. */
  async latestRuns(
    scheduleIds: string[],
    status?: ScheduleRunStatus,
  ): Promise<Map<string, ScheduleRunEntity>> {
    if (scheduleIds.length === 0) return new Map();
    const query = this.dataSource
      .getRepository(ScheduleRunEntity)
      .createQueryBuilder('r')
      .distinctOn(['r.schedule_id'])
      .where('r.schedule_id IN (:...ids)', { ids: scheduleIds })
      .orderBy('r.schedule_id')
      .addOrderBy('r.slot_at', 'DESC');
    if (status) query.andWhere('r.status = :status', { status });
    const runs = await query.getMany();
    return new Map(runs.map((r) => [r.scheduleId, r]));
  }

  /** Changes a schedule with its row locked (a claim in progress finishes first). */
  async withLockedSchedule<T>(
    id: string,
    userId: string,
    work: (tx: EntityManager, schedule: ScheduleEntity) => Promise<T>,
  ): Promise<T | undefined> {
    return this.dataSource.transaction(async (tx) => {
      const schedule = await tx
        .getRepository(ScheduleEntity)
        .createQueryBuilder('s')
        .setLock('pessimistic_write')
        .where('s.id = :id AND s.user_id = :userId', { id, userId })
        .getOne();
      return schedule ? work(tx, schedule) : undefined;
    });
  }

  /** Deletes a schedule and its runs; false when the user has no such schedule. */
  async delete(id: string, userId: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(ScheduleEntity).delete({ id, userId });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Deletes every schedule of the user and their runs (ON DELETE CASCADE). A launch in progress holds its run's
   * row lock: the delete waits for it, so no job of these schedules is created after this returns.
   */
  async deleteAllForUser(userId: string): Promise<number> {
    const result = await this.dataSource.getRepository(ScheduleEntity).delete({ userId });
    return result.affected ?? 0;
  }

  /** Newest first (by claim time, which follows the slots of a schedule). */
  listRuns(scheduleId: string, limit: number, after?: CursorPosition): Promise<ScheduleRunEntity[]> {
    const query = this.dataSource
      .getRepository(ScheduleRunEntity)
      .createQueryBuilder('r')
      .where('r.schedule_id = :scheduleId', { scheduleId })
      .orderBy('r.created_at', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(limit);
    if (after) query.andWhere('(r.created_at, r.id) < (:createdAt, :id)', after);
    return query.getMany();
  }

  runsOf(scheduleId: string): Promise<ScheduleRunEntity[]> {
    return this.dataSource
      .getRepository(ScheduleRunEntity)
      .find({ where: { scheduleId }, order: { slotAt: 'ASC' } });
  }

  /**
   * Claims the due slots of up to `limit` schedules, in one transaction: each due schedule row is locked
   * (`FOR UPDATE SKIP LOCKED`, so replicas never claim the same schedule at once and never wait on each
   * other), its run is inserted (unique on schedule and slot) and its next_run_at advanced. Once this
   * commits, no replica and no restart sees that slot due again. Returns the runs to launch.
   */
  async claimDue(
    now: Date,
    limit: number,
    plan: (schedule: ScheduleEntity) => ClaimPlan,
  ): Promise<{ claimed: number; runs: ScheduleRunEntity[] }> {
    return this.dataSource.transaction(async (tx) => {
      const due = await tx
        .getRepository(ScheduleEntity)
        .createQueryBuilder('s')
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .where('s.enabled = true AND s.next_run_at <= :now', { now })
        .orderBy('s.next_run_at', 'ASC')
        .limit(limit)
        .getMany();
      const runs: ScheduleRunEntity[] = [];
      for (const schedule of due) {
        const decided = plan(schedule);
        const run = Object.assign(new ScheduleRunEntity(), {
          id: randomUUID(),
          scheduleId: schedule.id,
          slotAt: decided.slotAt,
          status: decided.record?.status ?? ('pending' as const),
          jobIds: [],
          documentCount: null,
          error: decided.record?.error ?? null,
          attempts: 0,
          nextAttemptAt: null,
          createdAt: now,
          finishedAt: decided.record ? now : null,
        });
        const inserted = await tx
          .createQueryBuilder()
          .insert()
          .into(ScheduleRunEntity)
          .values(run)
          .orIgnore()
          .returning(['id'])
          .execute();
        if ((inserted.raw as unknown[]).length > 0 && !decided.record) runs.push(run);
        await tx.update(
          ScheduleEntity,
          { id: schedule.id },
          decided.nextRunAt
            ? { nextRunAt: decided.nextRunAt }
            : { nextRunAt: null, enabled: false, updatedAt: now },
        );
      }
      return { claimed: due.length, runs };
    });
  }

  /**
   * Runs `work` on the oldest pending run that is due for an attempt, with the run row locked for the whole
   * launch (`FOR UPDATE SKIP LOCKED`): while one replica launches it, no other can; if that replica dies,
   * its connection and the lock go, and the run is taken again (the jobs' idempotency keys make the retry
   * find the jobs already created). A schedule's runs are launched in slot order, one at a time.
   * Returns false when there was nothing to do.
   */
  async withNextPendingRun(
    now: Date,
    work: (tx: EntityManager, run: ScheduleRunEntity, schedule: ScheduleEntity) => Promise<void>,
  ): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const run = await tx
        .getRepository(ScheduleRunEntity)
        .createQueryBuilder('r')
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .where("r.status = 'pending'")
        .andWhere('(r.next_attempt_at IS NULL OR r.next_attempt_at <= :now)', { now })
        .andWhere(
          `NOT EXISTS (SELECT 1 FROM "jobs"."schedule_runs" p WHERE p.schedule_id = r.schedule_id
             AND p.status = 'pending' AND p.slot_at < r.slot_at)`,
        )
        .orderBy('r.slot_at', 'ASC')
        .limit(1)
        .getOne();
      if (!run) return false;
      const schedule = await tx.getRepository(ScheduleEntity).findOneBy({ id: run.scheduleId });
      if (!schedule) return true; // deleted meanwhile: its runs go with it
      await work(tx, run, schedule);
      return true;
    });
  }

  /** The slot of the schedule's last run before `slotAt` that launched its jobs or had nothing to launch. */
  async lastCompletedSlotBefore(tx: EntityManager, scheduleId: string, slotAt: Date): Promise<Date | null> {
    const previous = await tx
      .getRepository(ScheduleRunEntity)
      .createQueryBuilder('r')
      .where('r.schedule_id = :scheduleId AND r.slot_at < :slotAt', { scheduleId, slotAt })
      .andWhere('r.status IN (:...statuses)', { statuses: ['launched', 'skipped'] })
      .orderBy('r.slot_at', 'DESC')
      .limit(1)
      .getOne();
    return previous?.slotAt ?? null;
  }

  /** Pauses schedules whose owner is gone. */
  async disable(tx: EntityManager, ids: string[], now: Date): Promise<void> {
    await tx.update(ScheduleEntity, { id: In(ids) }, { enabled: false, nextRunAt: null, updatedAt: now });
  }
}
