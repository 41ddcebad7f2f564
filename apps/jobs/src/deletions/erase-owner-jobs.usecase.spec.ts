import { DomainError, ErrorCode } from '@docflow/contracts';
import type { ServiceClient } from '@docflow/messaging';
import type { ObjectStorage } from '@docflow/storage';
import type { EventsPublisher } from '../events/events.publisher';
import type { JobsRepository } from '../jobs/jobs.repository';
import type { JobsService } from '../jobs/jobs.service';
import type { SchedulesRepository } from '../schedules/schedules.repository';
import type { WorkflowEngine } from '@docflow/workflow-engine';
import { EraseOwnerJobsUseCase } from './erase-owner-jobs.usecase';

const USER = '11111111-1111-4111-8111-111111111111';
const TEAM = '22222222-2222-4222-8222-222222222222';

/** Every dependency as a recorder of what was asked, in order; `fail` makes one step throw. */
function harness(
  jobs: { id: string; status: string; apiKeyId: string | null }[],
  fail: Partial<Record<string, Error>> = {},
  phases: Record<string, string> = {},
  registered: { jobId: string; inputId: string }[] = [],
) {
  const calls: string[] = [];
  const step = async <T>(name: string, value: T): Promise<T> => {
    calls.push(name);
    if (fail[name]) throw fail[name];
    return value;
  };
  const kept: string[] = [];
  const sut = new EraseOwnerJobsUseCase(
    {
      jobsOf: (owner: { userId: string; teamId?: string }) =>
        step(`list jobs of ${owner.teamId ? `team ${owner.teamId}` : `user ${owner.userId}`}`, jobs),
      registeredOutputs: () => step('list registered outputs', registered),
      deleteJobs: (_owner: unknown, ids: string[]) =>
        step(`delete rows ${ids.join(',')}`, { jobs: ids.length, events: 0 }),
    } as unknown as JobsRepository,
    {
      cancel: ({ jobId, teamId }: { jobId: string; teamId?: string }) =>
        step(`cancel ${jobId}${teamId ? ` of team ${teamId}` : ''}`, {}),
    } as unknown as JobsService,
    { deleteAllForUser: () => step('delete schedules', 1) } as unknown as SchedulesRepository,
    {
      send: (_subject: string, { jobId }: { jobId: string }) => step(`revoke ${jobId}`, { revoked: 1 }),
    } as unknown as ServiceClient,
    {
      deletePrefix: (prefix: string, keep?: (key: string) => boolean) => {
        if (keep)
          for (const key of [
            `${prefix}a/outputs/x.md`,
            `${prefix}a/outputs/x.json`,
            `${prefix}a/manifest.json`,
          ])
            if (keep(key)) kept.push(key);
        return step(`delete objects ${prefix}`, 2);
      },
    } as unknown as ObjectStorage,
    { purgeJob: (jobId: string) => step(`purge ${jobId}`, 1) } as unknown as EventsPublisher,
    {
      status: async (jobId: string) => (phases[jobId] ? { jobId, phase: phases[jobId] } : undefined),
    } as unknown as WorkflowEngine,
  );
  return { sut, calls, kept };
}

const user = { kind: 'user' as const, id: USER };
const team = { kind: 'team' as const, id: TEAM };

describe(EraseOwnerJobsUseCase.name, () => {
  const jobs = [
    { id: 'a', status: 'running', apiKeyId: 'k1' },
    { id: 'b', status: 'completed', apiKeyId: 'k1' },
    { id: 'c', status: 'queued', apiKeyId: null },
  ];

  it('stops what could start or run before removing anything of the jobs, and deletes the rows last', async () => {
    const { sut, calls } = harness(jobs);
    const out = await sut.execute(user, 'e1');
    expect(calls).toEqual([
      'delete schedules',
      `list jobs of user ${USER}`,
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
    const out = await sut.execute(user, 'e1');
    expect(out).toEqual({ stillRunning: ['a'] });
    expect(calls.some((c) => c.startsWith('delete objects') || c.startsWith('delete rows'))).toBe(false);
    // Once it has stopped, the redelivered event finishes the erasure.
    const again = harness(jobs, {}, { a: 'Failed', b: 'Succeeded' });
    expect(await again.sut.execute(user, 'e1')).toMatchObject({ jobs: 3 });
    expect(again.calls.at(-1)).toBe('delete rows a,b,c');
  });

  it('goes on when a job ended (or went) before its cancel', async () => {
    const { sut, calls } = harness(jobs, {
      'cancel a': new DomainError(ErrorCode.CONFLICT, 'the job is already completed'),
    });
    const out = await sut.execute(user, 'e1');
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
    await expect(sut.execute(user, 'e1')).rejects.toBe(error);
    expect(calls.some((c) => c.startsWith('delete rows'))).toBe(false);
  });

  it('does nothing but look for a user it never knew', async () => {
    const { sut, calls } = harness([]);
    await sut.execute(user, 'e1');
    expect(calls).toEqual([
      'delete schedules',
      `list jobs of user ${USER}`,
      `delete objects users/${USER}/jobs/`,
      'delete rows ',
    ]);
  });

  describe('a team', () => {
    it("stops and removes the team's jobs like a user's, keeps no schedule step, and spares the outputs that are documents", async () => {
      const { sut, calls, kept } = harness(jobs, {}, {}, [{ jobId: 'a', inputId: 'x' }]);
      const out = await sut.execute(team, 'e2');
      expect(calls).toEqual([
        `list jobs of team ${TEAM}`,
        `cancel a of team ${TEAM}`,
        `cancel c of team ${TEAM}`,
        'revoke a',
        'revoke b',
        'list registered outputs',
        `delete objects teams/${TEAM}/jobs/`,
        'purge a',
        'purge b',
        'purge c',
        'delete rows a,b,c',
      ]);
      // The output registered as a document of the team stays for users-docs; its sidecar and the manifest go.
      expect(kept).toEqual([`teams/${TEAM}/jobs/a/outputs/x.md`]);
      expect(out).toMatchObject({ schedules: 0, cancelled: ['a', 'c'], grantsRevoked: 2, jobs: 3 });
    });
    it('removes no object once the rows are gone (a repeated event): it could not tell the documents apart', async () => {
      const { sut, calls } = harness([]);
      await sut.execute(team, 'e2');
      expect(calls).toEqual([`list jobs of team ${TEAM}`, 'delete rows ']);
    });
  });
});
