import type { JobManifest, ResolvedDocument } from '@docflow/contracts';
import type { ServiceClient } from '@docflow/messaging';
import type { ObjectStorage } from '@docflow/storage';
import type { SubmitWorkflowRequest, WorkflowEngine, WorkflowStatus } from '@docflow/workflow-engine';
import type { Clock } from '../common/clock';
import { loadJobsConfig } from '../config';
import type { OutboxRelay } from '../events/outbox.relay';
import type { JobQuota } from '../quota/job-quota';
import type { ApplyJobEventUseCase } from './apply-job-event.usecase';
import type { JobDocumentEntity } from './job-document.entity';
import type { JobEntity } from './job.entity';
import type { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';

const USER = '11111111-1111-4111-8111-111111111111';
const TEAM = '22222222-2222-4222-8222-222222222222';
const DOC = '33333333-3333-4333-8333-333333333333';

/** A deferred: `promise` settles when the test says so. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The jobs service over in-memory fakes: job rows in a map, `withLockedJob` serialized per job like a row lock,
 * and an engine that records which workflows it runs. `engine.gate`, when set, holds `submit()` until released.
 */
function harness() {
  const rows = new Map<string, JobEntity>();
  const locks = new Map<string, Promise<unknown>>();
  const running = new Set<string>();
  const log: string[] = [];
  const sent: { subject: string; payload: Record<string, unknown> }[] = [];
  const puts: string[] = [];
  const bodies = new Map<string, string>();
  const inputRows = new Map<string, JobDocumentEntity[]>();
  const engine = {
    kind: 'local' as const,
    gate: undefined as Promise<void> | undefined,
    entered: deferred(),
    submitted: [] as SubmitWorkflowRequest[],
    async submit(request: SubmitWorkflowRequest) {
      this.entered.resolve();
      if (this.gate) await this.gate;
      this.submitted.push(request);
      running.add(request.jobId);
      log.push(`submit ${request.jobId}`);
      return { workflowName: `wf-${request.jobId}` };
    },
    async cancel(jobId: string) {
      log.push(`cancel ${jobId}`);
      running.delete(jobId);
    },
    /** What `status()` answers per job id (none: the engine does not know the job). */
    statuses: new Map<string, WorkflowStatus>(),
    async status(jobId: string) {
      return this.statuses.get(jobId);
    },
  };
  const repository = {
    async insert(job: JobEntity, inputs: JobDocumentEntity[]) {
      rows.set(job.id, { ...job });
      inputRows.set(job.id, inputs);
    },
    async findByIdempotencyKey() {
      return null;
    },
    async findJob(id: string, owner?: { userId: string; teamId?: string | null }) {
      const row = rows.get(id);
      if (!row) return null;
      // As the repository: a team's jobs by team, whoever started them; a user's own only by user.
      const mine = owner?.teamId ? row.teamId === owner.teamId : row.userId === owner?.userId && !row.teamId;
      if (owner && !mine) return null;
      return { ...row };
    },
    async findWithInputs(id: string) {
      const row = rows.get(id);
      return row ? { ...row, documents: [] } : null;
    },
    async withLockedJob<T>(id: string, work: (tx: unknown, job: JobEntity) => Promise<T>) {
      const previous = locks.get(id) ?? Promise.resolve();
      const run = previous.then(async () => {
        const row = rows.get(id);
        if (!row) return undefined;
        const locked = { ...row };
        const tx = { save: async (entity: JobEntity) => void rows.set(id, { ...entity }) };
        return work(tx, locked);
      });
      locks.set(
        id,
        run.catch(() => undefined),
      );
      return run;
    },
    async cancelOpenInputs() {},
    async findUnfinished() {
      return [...rows.values()].filter(
        (row) => !['completed', 'completed_with_errors', 'failed', 'cancelled'].includes(row.status),
      );
    },
  } as unknown as JobsRepository;
  const services = {
    async send(subject: string, payload: Record<string, unknown>) {
      sent.push({ subject, payload });
      return ((payload.docIds as string[]) ?? []).map((docId): ResolvedDocument => ({
        docId,
        name: 'a.txt',
        contentType: 'text/plain',
        size: 3,
        key: `users/${USER}/docs/${docId}/a.txt`,
      }));
    },
  } as unknown as ServiceClient;
  const storage = {
    bucket: 'docflow',
    async put(key: string, body: string) {
      puts.push(key);
      bodies.set(key, body);
    },
  } as unknown as ObjectStorage;
  const applyEvent = {
    async finish(_tx: unknown, job: JobEntity, status: JobEntity['status']) {
      job.status = status;
    },
    ended() {},
  } as unknown as ApplyJobEventUseCase;
  const outbox = { flush: async () => undefined } as unknown as OutboxRelay;
  const clock = { now: () => new Date('2026-12-03T12:00:00Z') } as Clock;
  const config = loadJobsConfig({ SEMAPHORE_KEYS: `default,${TEAM}` });
  const sut = new JobsService(
    repository,
    services,
    storage,
    engine as unknown as WorkflowEngine,
    applyEvent,
    outbox,
    config,
    clock,
    // The quota has its own int-spec (apps/jobs/src/quota): here every job is admitted.
    { admission: async () => undefined } as unknown as JobQuota,
  );
  return { sut, rows, running, engine, log, sent, puts, bodies, inputRows };
}

describe(JobsService.name, () => {
  describe('a cancel that arrives between recording the job and starting its workflow', () => {
    it('leaves no step running: the workflow that started meanwhile is stopped', async () => {
      const h = harness();
      const release = deferred();
      h.engine.gate = release.promise;
      const creating = h.sut.create({ userId: USER, docIds: [DOC] });
      // The job is recorded and its workflow is being started…
      await h.engine.entered.promise;
      const [jobId] = [...h.rows.keys()];
      // …when the DELETE comes: the engine knows no workflow yet, the job ends cancelled.
      const cancelled = await h.sut.cancel({ userId: USER, jobId: jobId! });
      expect(cancelled.status).toBe('cancelled');
      release.resolve();
      const created = await creating;

      expect(created.status).toBe('cancelled');
      expect(h.rows.get(jobId!)!.status).toBe('cancelled');
      expect(h.running.has(jobId!)).toBe(false);
      expect(h.log).toEqual([`cancel ${jobId}`, `submit ${jobId}`, `cancel ${jobId}`]);
    });

    it('stops the workflow when the submission was recorded between the cancel reaching the engine and its lock', async () => {
      const h = harness();
      const release = deferred();
      h.engine.gate = release.promise;
      const creating = h.sut.create({ userId: USER, docIds: [DOC] });
      await h.engine.entered.promise;
      const [jobId] = [...h.rows.keys()];
      // The cancel asks the engine first (nothing to stop yet)…
      const realCancel = h.engine.cancel.bind(h.engine);
      const stopped = deferred();
      const proceed = deferred();
      let first = true;
      h.engine.cancel = async (id: string) => {
        await realCancel(id);
        if (first) {
          first = false;
          stopped.resolve();
          await proceed.promise;
        }
      };
      const cancelling = h.sut.cancel({ userId: USER, jobId: jobId! });
      await stopped.promise;
      // …then the submission completes and is recorded as `submitted`, before the cancel takes the lock.
      release.resolve();
      await creating;
      expect(h.rows.get(jobId!)!.status).toBe('submitted');
      proceed.resolve();
      expect((await cancelling).status).toBe('cancelled');

      expect(h.running.has(jobId!)).toBe(false);
    });
  });

  describe('recovery (start-up and the periodic sweep)', () => {
    async function strandedJob(h: ReturnType<typeof harness>, status: Partial<WorkflowStatus>) {
      await h.sut.create({ userId: USER, docIds: [DOC] });
      const [jobId] = [...h.rows.keys()];
      h.engine.submitted.length = 0;
      h.engine.statuses.set(jobId!, {
        jobId: jobId!,
        workflowName: `wf-${jobId}`,
        phase: 'Pending',
        ...status,
      });
      return jobId!;
    }

    it('submits again a job whose workflow is still suspended (the service stopped before resuming it)', async () => {
      const h = harness();
      const jobId = await strandedJob(h, { suspended: true });
      expect(await h.sut.recover({ olderThanMs: -1 })).toEqual({ resumed: 1, settled: 0 });
      expect(h.engine.submitted.map((r) => r.jobId)).toEqual([jobId]);
    });

    it('leaves alone a workflow that runs, and a suspended one that is being stopped', async () => {
      const h = harness();
      await strandedJob(h, { phase: 'Running' });
      expect(await h.sut.recover({ olderThanMs: -1 })).toEqual({ resumed: 0, settled: 0 });
      const other = harness();
      await strandedJob(other, { suspended: true, stopping: true });
      expect(await other.sut.recover({ olderThanMs: -1 })).toEqual({ resumed: 0, settled: 0 });
      expect([...h.engine.submitted, ...other.engine.submitted]).toEqual([]);
    });
  });

  describe("a team's job", () => {
    it("runs over the team's documents, keeps its objects under the team, and takes the team's semaphore", async () => {
      const h = harness();
      const job = await h.sut.create({
        userId: USER.toUpperCase(),
        teamId: TEAM.toUpperCase(),
        docIds: [DOC],
      });
      expect(job).toMatchObject({ userId: USER, teamId: TEAM, status: 'submitted' });
      expect(h.sent[0]).toEqual({
        subject: 'users-docs.document.resolve',
        payload: { userId: USER, teamId: TEAM, docIds: [DOC] },
      });
      expect(h.puts).toEqual([`teams/${TEAM}/jobs/${job.id}/manifest.json`]);
      expect(h.engine.submitted[0]).toMatchObject({
        manifestKey: `teams/${TEAM}/jobs/${job.id}/manifest.json`,
        concurrencyKey: TEAM,
      });
    });

    it("takes the user's semaphore (here `default`, not listed) for the user's own job", async () => {
      const h = harness();
      const job = await h.sut.create({ userId: USER, docIds: [DOC] });
      expect(job.teamId).toBeUndefined();
      expect(h.sent[0]!.payload).toEqual({ userId: USER, docIds: [DOC] });
      expect(h.puts).toEqual([`users/${USER}/jobs/${job.id}/manifest.json`]);
      expect(h.engine.submitted[0]!.concurrencyKey).toBe('default');
    });

    it("is the team's: the member's own routes do not find it, the team's do, another team's do not", async () => {
      const h = harness();
      const job = await h.sut.create({ userId: USER, teamId: TEAM, docIds: [DOC] });
      await expect(h.sut.cancel({ userId: USER, jobId: job.id })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      const other = '44444444-4444-4444-8444-444444444444';
      await expect(h.sut.cancel({ userId: USER, teamId: other, jobId: job.id })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      // A team id that is not one is refused, never taken for the user's own scope.
      for (const teamId of ['', 'team']) {
        await expect(h.sut.get({ userId: USER, teamId, jobId: job.id })).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
        await expect(h.sut.create({ userId: USER, teamId, docIds: [DOC] })).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
      }
      // Any member may act on it (the gateway checked the role), not only the one who started it.
      expect((await h.sut.cancel({ userId: other, teamId: TEAM, jobId: job.id })).status).toBe('cancelled');
    });
  });
  describe('an object job', () => {
    const docs = (n: number) =>
      Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

    it('groups the documents in request order into consecutive inputs of options.batchSize, and shows it', async () => {
      const h = harness();
      const ids = docs(9);
      // A repeated document counts once, where it first came.
      const job = await h.sut.create({
        userId: USER,
        docIds: [...ids.slice(0, 5), ids[1]!, ...ids.slice(5)],
        strategy: 'object',
        options: { batchSize: 4 },
      });
      expect(job).toMatchObject({ strategy: 'object', batchSize: 4, documentCount: 9, inputCount: 3 });
      const groups = [ids.slice(0, 4), ids.slice(4, 8), ids.slice(8)];
      expect(h.inputRows.get(job.id)!.map((i) => [i.inputId, i.docIds])).toEqual(
        groups.map((group, n) => [`batch-${n}`, group]),
      );
      const manifest = JSON.parse(h.bodies.get(h.puts[0]!)!) as JobManifest;
      expect(manifest.chunks.flatMap((c) => c.inputs)).toEqual(
        groups.map((group, n) => ({ inputId: `batch-${n}`, docIds: group })),
      );
      expect(h.rows.get(job.id)!.batchSize).toBe(4);
    });

    it('takes 10 documents an input unless told otherwise', async () => {
      const h = harness();
      const job = await h.sut.create({ userId: USER, docIds: docs(23), strategy: 'object' });
      expect(job.batchSize).toBe(10);
      expect(h.inputRows.get(job.id)!.map((i) => i.docIds.length)).toEqual([10, 10, 3]);
    });

    it.each([
      ['with another strategy', { strategy: 'individual' as const, options: { batchSize: 4 } }],
      ['with no strategy (individual)', { options: { batchSize: 4 } }],
      ['out of range', { strategy: 'object' as const, options: { batchSize: 101 } }],
      ['not an integer', { strategy: 'object' as const, options: { batchSize: 2.5 } }],
    ])('refuses options.batchSize %s, before anything is resolved or recorded', async (_what, request) => {
      const h = harness();
      await expect(h.sut.create({ userId: USER, docIds: docs(3), ...request })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [{ field: 'options.batchSize' }],
      });
      expect(h.sent).toEqual([]);
      expect(h.rows.size).toBe(0);
    });

    it('shows no batch size for the other strategies', async () => {
      const h = harness();
      const job = await h.sut.create({ userId: USER, docIds: docs(3) });
      expect(job).not.toHaveProperty('batchSize');
      expect(h.rows.get(job.id)!.batchSize).toBeNull();
    });
  });
});
