import { DomainError, ErrorCode } from '@docflow/contracts';
import type { ServiceClient } from '@docflow/messaging';
import type { ObjectStorage } from '@docflow/storage';
import type { EventsPublisher } from '../events/events.publisher';
import type { JobsRepository } from '../jobs/jobs.repository';
import type { JobsService } from '../jobs/jobs.service';
import type { SchedulesRepository } from '../schedules/schedules.repository';
import type { WorkflowEngine } from '@docflow/workflow-engine';
import { EraseUserJobsUseCase } from './erase-user-jobs.usecase';

const USER = '11111111-1111-4111-8111-111111111111';

/** Every dependency as a recorder of what was asked, in order; `fail` makes one step throw. */
function harness(
  jobs: { id: string; status: string; apiKeyId: string | null }[],
  fail: Partial<Record<string, Error>> = {},
  phases: Record<string, string> = {},
) {
  const calls: string[] = [];
  const step = async <T>(name: string, value: T): Promise<T> => {
    calls.push(name);
    if (fail[name]) throw fail[name];
    return value;
  };
  const sut = new EraseUserJobsUseCase(
    {
      jobsOfUser: () => step('list jobs', jobs),
      deleteJobs: (_userId: string, ids: string[]) =>
        step(`delete rows ${ids.join(',')}`, { jobs: ids.length, events: 0 }),
    } as unknown as JobsRepository,
    {
      cancel: ({ jobId }: { jobId: string }) => step(`cancel ${jobId}`, {}),
    } as unknown as JobsService,
    { deleteAllForUser: () => step('delete schedules', 1) } as unknown as SchedulesRepository,
    {
      send: (_subject: string, { jobId }: { jobId: string }) => step(`revoke ${jobId}`, { revoked: 1 }),
    } as unknown as ServiceClient,
    { deletePrefix: (prefix: string) => step(`delete objects ${prefix}`, 2) } as unknown as ObjectStorage,
    { purgeJob: (jobId: string) => step(`purge ${jobId}`, 1) } as unknown as EventsPublisher,
    {
      status: async (jobId: string) => (phases[jobId] ? { jobId, phase: phases[jobId] } : undefined),
    } as unknown as WorkflowEngine,
  );
  return { sut, calls };
}

describe(EraseUserJobsUseCase.name, () => {
  const jobs = [
    { id: 'a', status: 'running', apiKeyId: 'k1' },
    { id: 'b', status: 'completed', apiKeyId: 'k1' },
    { id: 'c', status: 'queued', apiKeyId: null },
  ];

  it('stops what could start or run before removing anything of the jobs, and deletes the rows last', async () => {
    const { sut, calls } = harness(jobs);
    const out = await sut.execute(USER, 'e1');
    expect(calls).toEqual([
      'delete schedules',
      'list jobs',
      'cancel a',
      'cancel c',
      'revoke a',
      'revoke b',
      `delete objects users/${USER}/jobs/`,
      'purge a',
      'purge b',
      'purge c',
      'delete rows a,b,c',
    ]);
    expect(out).toMatchObject({ schedules: 1, cancelled: ['a', 'c'], grantsRevoked: 2, jobs: 3 });
  });

  it("removes no object or row while a cancelled job's workflow still runs (its step may still write), and says so", async () => {
    const { sut, calls } = harness(jobs, {}, { a: 'Running', b: 'Succeeded' });
    const out = await sut.execute(USER, 'e1');
    expect(out).toEqual({ stillRunning: ['a'] });
    expect(calls.some((c) => c.startsWith('delete objects') || c.startsWith('delete rows'))).toBe(false);
    // Once it has stopped, the redelivered event finishes the erasure.
    const again = harness(jobs, {}, { a: 'Failed', b: 'Succeeded' });
    expect(await again.sut.execute(USER, 'e1')).toMatchObject({ jobs: 3 });
    expect(again.calls.at(-1)).toBe('delete rows a,b,c');
  });

  it('goes on when a job ended (or went) before its cancel', async () => {
    const { sut, calls } = harness(jobs, {
      'cancel a': new DomainError(ErrorCode.CONFLICT, 'the job is already completed'),
    });
    const out = await sut.execute(USER, 'e1');
    expect(out).toMatchObject({ cancelled: ['c'] });
    expect(calls.at(-1)).toBe('delete rows a,b,c');
  });

  it.each([
    ['cancel a', new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'The workflow engine is unavailable')],
    ['revoke b', new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'key-vault did not answer')],
    [`delete objects users/${USER}/jobs/`, new Error('S3 is down')],
    ['purge b', new Error('JetStream is down')],
  ])('keeps every row when %s fails, so the redelivered event finds the jobs again', async (name, error) => {
    const { sut, calls } = harness(jobs, { [name]: error });
    await expect(sut.execute(USER, 'e1')).rejects.toBe(error);
    expect(calls.some((c) => c.startsWith('delete rows'))).toBe(false);
  });

  it('does nothing but look for a user it never knew', async () => {
    const { sut, calls } = harness([]);
    await sut.execute(USER, 'e1');
    expect(calls).toEqual([
      'delete schedules',
      'list jobs',
      `delete objects users/${USER}/jobs/`,
      'delete rows ',
    ]);
  });
});
