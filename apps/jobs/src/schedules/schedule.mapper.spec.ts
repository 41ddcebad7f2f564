import { randomUUID } from 'node:crypto';
import { ScheduleEntity } from './schedule.entity';
import { toSchedule } from './schedule.mapper';

describe(toSchedule.name, () => {
  const schedule = (documents: ScheduleEntity['documents']) =>
    Object.assign(new ScheduleEntity(), {
      id: randomUUID(),
      userId: randomUUID(),
      name: null,
      cron: null,
      every: 'daily',
      at: '00:00',
      dayOfWeek: null,
      dayOfMonth: null,
      timezone: 'UTC',
      documents,
      crew: 'summarize',
      strategy: 'individual',
      options: {},
      catchUp: 'latest',
      enabled: true,
      nextRunAt: new Date('2026-06-11T00:00:00Z'),
      createdAt: new Date('2026-06-10T00:00:00Z'),
      updatedAt: new Date('2026-06-10T00:00:00Z'),
    } satisfies Partial<ScheduleEntity>);

  it('lists the first ids of a large selection with their count, so no reply outgrows NATS', () => {
    const docIds = Array.from({ length: 25 }, () => randomUUID());
    const sut = toSchedule(schedule({ docIds }), undefined, undefined, 20);
    expect(sut.documents).toEqual({ docIds: docIds.slice(0, 20), docCount: 25, truncated: true });
    expect(toSchedule(schedule({ docIds: docIds.slice(0, 3) })).documents).toEqual({
      docIds: docIds.slice(0, 3),
      docCount: 3,
      truncated: false,
    });
  });

  it('shows a filter as it is, and the latest launched job', () => {
    const entity = schedule({ filter: { kind: 'upload', uploadedSinceLastRun: true } });
    const jobId = randomUUID();
    const run = {
      id: randomUUID(),
      scheduleId: entity.id,
      slotAt: new Date('2026-06-10T00:00:00Z'),
      status: 'launched' as const,
      jobIds: [randomUUID(), jobId],
      documentCount: 2,
      error: null,
      attempts: 1,
      nextAttemptAt: null,
      createdAt: new Date('2026-06-10T00:00:01Z'),
      finishedAt: new Date('2026-06-10T00:00:02Z'),
    };
    expect(toSchedule(entity, run, run)).toMatchObject({
      documents: { filter: { kind: 'upload', uploadedSinceLastRun: true } },
      nextRunAt: '2026-06-11T00:00:00.000Z',
      lastRunAt: '2026-06-10T00:00:00.000Z',
      lastJobId: jobId,
      lastRun: { status: 'launched', documentCount: 2 },
    });
  });
});
