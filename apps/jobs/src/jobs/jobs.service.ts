import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { isBuiltinCrewName, loadBuiltinCrew } from '@docflow/agents';
import {
  DomainError,
  ErrorCode,
  JOB_MANIFEST_VERSION,
  PAGE_LIMIT_DEFAULT,
  UsersDocsSubjects,
  KeyVaultSubjects,
  GRANT_MAX_TTL_SECONDS,
  type CreateGrantRequest,
  type Grant,
  jobManifestKey,
  jobOutputPrefix,
  type CreateJobRequest,
  type Job,
  type JobEvent,
  type JobInputPage,
  type JobManifest,
  type ListJobInputsRequest,
  JOB_LIST_VIEW_DOCUMENTS,
  JOB_VIEW_DOCUMENTS,
  type JobOwner,
  type JobPage,
  type JobRef,
  type ListJobsRequest,
  type ResolvedDocument,
} from '@docflow/contracts';
import { decodeCursor, isUniqueViolation, toPage } from '@docflow/database';
import { ServiceClient } from '@docflow/messaging';
import { ObjectStorage } from '@docflow/storage';
import type { WorkflowEngine, WorkflowStatus } from '@docflow/workflow-engine';
import { Clock } from '../common/clock';
import { JOBS_CONFIG, type JobsConfig } from '../config';
import { OutboxRelay } from '../events/outbox.relay';
import { ApplyJobEventUseCase } from './apply-job-event.usecase';
import { JobDocumentEntity } from './job-document.entity';
import { isTerminal } from './job-state';
import { JobEntity } from './job.entity';
import { jobListFilters } from './job-list-filters';
import { jobRequestHash } from './job-request-hash';
import { objectBatchSize, objectInputs } from './object-batch-size';
import { toJob, toJobInput } from './job.mapper';
import { JobsRepository } from './jobs.repository';
import { JobQuota } from '../quota/job-quota';
import { semaphoreKeyForOwner } from './semaphore-key';

export const WORKFLOW_ENGINE = Symbol('WORKFLOW_ENGINE');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Documents resolved per request to users-docs. */
const RESOLVE_BATCH = 1_000;

function encodeInputCursor(input: { chunk: number; inputId: string }): string {
  return Buffer.from(JSON.stringify([input.chunk, input.inputId])).toString('base64url');
}

function decodeInputCursor(cursor: string): { chunk: number; inputId: string } {
  try {
    const [chunk, inputId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (Number.isInteger(chunk) && typeof inputId === 'string' && inputId.length <= 128)
      return { chunk: chunk as number, inputId };
  } catch {
    // falls through
  }
  throw DomainError.validation('cursor', 'is not a cursor this API gave');
}

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly jobs: JobsRepository,
    private readonly services: ServiceClient,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    @Inject(WORKFLOW_ENGINE) private readonly engine: WorkflowEngine,
    private readonly applyEvent: ApplyJobEventUseCase,
    private readonly outbox: OutboxRelay,
    @Inject(JOBS_CONFIG) private readonly config: JobsConfig,
    private readonly clock: Clock,
    private readonly quota: JobQuota,
  ) {
    this.applyEvent.onWorkflowEnded = (status) => this.reconcile(status);
  }

  /**
   * Checks the request and the documents, writes the job manifest, records the job and starts its workflow.
   * The same Idempotency-Key with the same request gives the same job; with another request it is refused
   * (`IDEMPOTENCY_KEY_REUSED`), unless `keyReuse` is `existing` (a scheduled run's retry: the documents a filter
   * finds may change between attempts, and the job already launched for the slot is the one it wants).
   */
  async create(request: CreateJobRequest, options: { keyReuse?: 'refuse' | 'existing' } = {}): Promise<Job> {
    // A team's job: over the team's documents, its outputs the team's, its Idempotency-Key the team's.
    const owner = ownerOf(request);
    const { userId } = owner;
    const teamId = owner.teamId ?? null;
    const batchSize = objectBatchSize(request.strategy, request.options?.batchSize);
    const requestHash = jobRequestHash(request);
    const sameJob = (existing: JobEntity) => {
      if (options.keyReuse !== 'existing' && existing.requestHash && existing.requestHash !== requestHash)
        throw new DomainError(
          ErrorCode.IDEMPOTENCY_KEY_REUSED,
          'Idempotency-Key: was used for a job with other parameters; send a new key for a new job',
          [{ field: 'Idempotency-Key', message: 'was used for a job with other parameters' }],
        );
      return this.view(existing.id);
    };
    if (request.idempotencyKey) {
      const existing = await this.jobs.findByIdempotencyKey(owner, request.idempotencyKey);
      if (existing) return sameJob(existing);
    }
    if (request.flowId) throw DomainError.validation('flowId', 'flows are not available yet; name a crew');
    const crew = request.crew ?? 'summarize';
    if (!isBuiltinCrewName(crew)) throw DomainError.validation('crew', `unknown crew "${crew}"`);
    const params = request.options?.params ?? {};
    for (const [name, value] of Object.entries(params)) {
      if (typeof value !== 'string' || value.length > 100_000) {
        throw DomainError.validation(
          `options.params.${name}`,
          'must be a string of at most 100,000 characters',
        );
      }
    }
    for (const [name, definition] of Object.entries(loadBuiltinCrew(crew).params)) {
      // A parameter is required unless it says otherwise or has a default (the crew schema's rule).
      const required = definition.required ?? definition.default === undefined;
      if (required && definition.default === undefined && params[name] === undefined) {
        throw DomainError.validation(`options.params.${name}`, `is required by the ${crew} crew`);
      }
    }
    const docIds = [...new Set(request.docIds.map((id) => id.toLowerCase()))];
    const apiKeyId = request.options?.apiKeyId?.toLowerCase() ?? null;
    if (apiKeyId !== null && !UUID.test(apiKeyId))
      throw DomainError.validation('options.apiKeyId', 'must be a key id (UUID)');
    if (docIds.length > this.config.MAX_DOCS_PER_JOB) {
      throw DomainError.validation('docIds', `at most ${this.config.MAX_DOCS_PER_JOB} documents per job`);
    }
    // The starter's maxJobsPerDay (QUOTA_EXCEEDED), checked again when the job is recorded.
    const admit = await this.quota.admission(userId);
    // In batches: a reply must fit NATS's message size (1 MB by default), and a job may hold 10,000 documents.
    const documents = (
      await Promise.all(
        chunk(docIds, RESOLVE_BATCH).map((batch) =>
          this.services.send<ResolvedDocument[]>(UsersDocsSubjects.documentResolve, {
            userId,
            ...(teamId ? { teamId } : {}),
            docIds: batch,
          }),
        ),
      )
    ).flat();

    const id = randomUUID();
    const strategy = request.strategy ?? 'individual';
    const inputs =
      strategy === 'combined'
        ? [{ inputId: 'combined', docIds, name: 'combined' }]
        : strategy === 'object'
          ? objectInputs(docIds, batchSize!)
          : documents.map((d) => ({ inputId: d.docId, docIds: [d.docId], name: d.name }));
    const perChunk = Math.max(
      this.config.DOCS_PER_CHUNK,
      Math.ceil(inputs.length / this.config.MAX_CHUNKS_PER_JOB),
    );
    const chunks = chunk(inputs, perChunk).map((group, index) => ({
      index,
      inputs: group.map(({ inputId, docIds: ids }) => ({ inputId, docIds: ids })),
    }));
    const manifest: JobManifest = {
      version: JOB_MANIFEST_VERSION,
      jobId: id,
      userId,
      ...(teamId ? { teamId } : {}),
      crew,
      params,
      strategy,
      model: request.options?.model ?? {
        provider: this.config.DEFAULT_MODEL_PROVIDER,
        model: this.config.DEFAULT_MODEL,
      },
      documents: documents.map((d) => ({
        docId: d.docId,
        name: d.name,
        contentType: d.contentType,
        size: d.size,
        key: d.key,
        ...(d.etag ? { etag: d.etag } : {}),
      })),
      chunks,
      ...(apiKeyId ? { apiKeyId } : {}),
      outputPrefix: jobOutputPrefix(owner, id),
      limits: {
        maxDocumentBytes: this.config.MAX_DOCUMENT_BYTES,
        chunkTokens: this.config.CHUNK_TOKENS,
        modelConcurrency: this.config.MODEL_CONCURRENCY,
      },
    };
    // The steps may read the stored key while the job runs (and an hour after, for the exit handler): the vault
    // checks the key is the user's own, or a team's whose role lets them use its keys (404 / 403 otherwise),
    // and refuses it to any other job. For a team's job it is asked for the member who starts it, exactly so: a
    // key of the team (or of the member) that the member's role may use.
    if (apiKeyId) {
      const expiresAt = new Date(
        this.clock.now().getTime() +
          Math.min((this.config.JOB_DEADLINE_SECONDS + 3600) * 1000, GRANT_MAX_TTL_SECONDS * 1000),
      );
      try {
        await this.services.send<Grant>(KeyVaultSubjects.grantCreate, {
          jobId: id,
          ownerType: 'user',
          ownerId: userId,
          keyId: apiKeyId,
          expiresAt: expiresAt.toISOString(),
        } satisfies CreateGrantRequest);
      } catch (error) {
        if (error instanceof DomainError && error.code === ErrorCode.NOT_FOUND)
          throw new DomainError(ErrorCode.NOT_FOUND, 'No such provider key (options.apiKeyId)', [
            { field: 'options.apiKeyId', message: 'is neither your key nor a key of one of your teams' },
          ]);
        if (error instanceof DomainError && error.code === ErrorCode.FORBIDDEN)
          throw new DomainError(ErrorCode.FORBIDDEN, `options.apiKeyId: ${error.message}`, [
            { field: 'options.apiKeyId', message: error.message },
          ]);
        throw error;
      }
    }
    const manifestKey = jobManifestKey(owner, id);
    await this.storage.put(manifestKey, JSON.stringify(manifest), 'application/json');

    const now = this.clock.now();
    const job = Object.assign(new JobEntity(), {
      id,
      userId,
      teamId,
      status: 'queued' as const,
      crew,
      strategy,
      batchSize,
      params,
      model: manifest.model,
      docIds,
      idempotencyKey: request.idempotencyKey ?? null,
      requestHash,
      apiKeyId,
      engine: this.engine.kind,
      workflowName: null,
      manifestKey,
      callbackSecret: randomBytes(32).toString('hex'),
      chunkCount: chunks.length,
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
      inputsTotal: inputs.length,
      inputsOpen: inputs.length,
      inputsCompleted: 0,
      progressSum: 0,
      error: null,
      createdAt: now,
      updatedAt: now,
      submittedAt: null,
      startedAt: null,
      finishedAt: null,
    });
    const rows = chunks.flatMap((c) =>
      c.inputs.map((input) =>
        Object.assign(new JobDocumentEntity(), {
          jobId: id,
          inputId: input.inputId,
          docIds: input.docIds,
          name: inputs.find((i) => i.inputId === input.inputId)!.name,
          chunk: c.index,
          status: 'pending' as const,
          stage: null,
          progress: 0,
          outputDocId: null,
          error: null,
        }),
      ),
    );
    try {
      await this.jobs.insert(job, rows, admit);
    } catch (error) {
      if (isUniqueViolation(error) && request.idempotencyKey) {
        const existing = await this.jobs.findByIdempotencyKey(owner, request.idempotencyKey);
        if (existing) return sameJob(existing);
      }
      throw error;
    }

    try {
      await this.submit(job);
    } catch (error) {
      this.logger.error({ msg: 'could not start the workflow', jobId: id, error: (error as Error).message });
      await this.jobs.withLockedJob(id, async (tx, locked) => {
        await this.applyEvent.finish(
          tx,
          locked,
          'failed',
          this.clock.now(),
          'the workflow could not be started',
        );
        await tx.save(locked);
      });
      void this.outbox.flush(id);
      this.applyEvent.ended(job);
      throw new DomainError(
        ErrorCode.SERVICE_UNAVAILABLE,
        'The workflow engine is unavailable; the job was not started',
      );
    }
    return this.view(id);
  }

  /**
   * Hands the job to the engine (again, when resuming) and records it as submitted. A cancel may come while the
   * engine starts the workflow (the job is recorded first, so a `DELETE` can find it before its workflow exists,
   * and then ends it `cancelled` with nothing to stop): the job's state is read again under its lock once the
   * workflow exists, and a job that ended meanwhile has its workflow stopped at once. The cancel does the
   * converse (see {@link cancel}), so whichever takes the lock second stops the steps.
   */
  private async submit(job: JobEntity, chunks?: number[]): Promise<void> {
    const { workflowName } = await this.engine.submit({
      jobId: job.id,
      userId: job.userId,
      manifestKey: job.manifestKey,
      bucket: this.storage.bucket,
      chunkCount: job.chunkCount,
      ...(chunks ? { chunks } : {}),
      parallelism: this.config.STEP_PARALLELISM,
      callbackSecret: job.callbackSecret,
      deadlineSeconds: this.config.JOB_DEADLINE_SECONDS,
      // Per owner: the team for a team's job (its concurrent model calls share one cap), the user otherwise.
      concurrencyKey: semaphoreKeyForOwner(job.teamId ?? job.userId, this.config.SEMAPHORE_KEYS),
    });
    const ended = await this.jobs.withLockedJob(job.id, async (tx, locked) => {
      if (isTerminal(locked.status)) return true;
      if (locked.status === 'queued') {
        locked.status = 'submitted';
        locked.submittedAt = this.clock.now();
      }
      locked.workflowName = workflowName;
      locked.updatedAt = this.clock.now();
      await tx.save(locked);
      return false;
    });
    // Ended (cancelled) while the workflow was starting, or deleted (its owner's erasure): stop what started.
    if (ended !== false) await this.stopLateWorkflow(job.id);
  }

  /** Stops a workflow that started after its job ended. Logged, not thrown: the job's end stands. */
  private async stopLateWorkflow(jobId: string): Promise<void> {
    this.logger.warn({ msg: 'a workflow started as its job ended; stopping it', jobId });
    try {
      await this.engine.cancel(jobId);
    } catch (error) {
      this.logger.error({
        msg: 'could not stop the workflow of an ended job',
        jobId,
        error: (error as Error).message,
      });
    }
  }

  /**
   * Takes up the jobs nobody drives any more: at start-up (after a crash or a restart) and then every minute.
   * A job the engine still runs is left alone; one whose workflow ended is settled; a job that was recorded
   * but never handed to the engine is submitted, and so is one whose Workflow was created but never resumed; a local job the engine does not know (the service restarted,
   * its steps stopped with it) runs its unfinished chunks again, the worker skipping inputs already done;
   * an argo job whose Workflow is gone is settled from what its steps left in storage.
   */
  async recover(options: { olderThanMs: number }): Promise<{ resumed: number; settled: number }> {
    const counts = { resumed: 0, settled: 0 };
    const cutoff = this.clock.now().getTime() - options.olderThanMs;
    for (const job of await this.jobs.findUnfinished()) {
      // A job being created right now is not stranded.
      if (job.createdAt.getTime() > cutoff) continue;
      try {
        const status = await this.engine.status(job.id);
        if (status?.suspended && !status.stopping && job.engine === this.engine.kind) {
          // argo: the service stopped between creating the Workflow (suspended) and resuming it. Submitting
          // again is idempotent: it creates the job's Secret if missing, then resumes the Workflow.
          this.logger.warn({ msg: 'finishing the submission of a job', jobId: job.id, status: job.status });
          await this.submit(job);
          counts.resumed++;
          continue;
        }
        if (status) {
          if (['Succeeded', 'Failed', 'Error'].includes(status.phase) && !status.stopping) {
            await this.reconcile(status);
            counts.settled++;
          }
          continue;
        }
        if (job.engine !== this.engine.kind) {
          this.logger.warn({ msg: 'an unfinished job of another engine', jobId: job.id, engine: job.engine });
          continue;
        }
        if (job.status === 'queued' || this.engine.kind === 'local') {
          const chunks = job.status === 'queued' ? undefined : await this.jobs.openChunks(job.id);
          if (chunks && chunks.length === 0) {
            await this.reconcile({ jobId: job.id, workflowName: job.workflowName ?? '', phase: 'Succeeded' });
            counts.settled++;
            continue;
          }
          this.logger.warn({ msg: 'resuming a job', jobId: job.id, status: job.status, chunks });
          await this.submit(job, chunks);
          counts.resumed++;
          continue;
        }
        await this.reconcile({
          jobId: job.id,
          workflowName: job.workflowName ?? '',
          phase: 'Failed',
          message: 'the workflow no longer exists',
        });
        counts.settled++;
      } catch (error) {
        this.logger.error({ msg: 'could not recover a job', jobId: job.id, error: (error as Error).message });
      }
    }
    return counts;
  }

  private async view(id: string): Promise<Job> {
    return toJob((await this.jobs.findWithInputs(id, undefined, JOB_VIEW_DOCUMENTS))!);
  }

  /** A job's inputs, paged in the order of their steps. */
  async inputs(request: ListJobInputsRequest): Promise<JobInputPage> {
    const job = await this.jobs.findJob(request.jobId.toLowerCase(), ownerOf(request));
    if (!job) throw DomainError.notFound('job');
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const rows = await this.jobs.listInputs(
      job.id,
      limit + 1,
      request.cursor ? decodeInputCursor(request.cursor) : undefined,
      request.status,
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(toJobInput),
      ...(rows.length > limit && last ? { nextCursor: encodeInputCursor(last) } : {}),
    };
  }

  async get(ref: JobRef): Promise<Job> {
    const job = await this.jobs.findWithInputs(ref.jobId.toLowerCase(), ownerOf(ref), JOB_VIEW_DOCUMENTS);
    if (!job) throw DomainError.notFound('job');
    return toJob(job);
  }

  async list(request: ListJobsRequest): Promise<JobPage> {
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const rows = await this.jobs.list(
      ownerOf(request),
      limit + 1,
      JOB_LIST_VIEW_DOCUMENTS,
      request.cursor ? decodeCursor(request.cursor) : undefined,
      jobListFilters(request),
    );
    return toPage(rows, limit, (row) => toJob(row, JOB_LIST_VIEW_DOCUMENTS));
  }

  /** Stops the work for real (the engine ends the steps), then the job ends `cancelled`. */
  async cancel(ref: JobRef): Promise<Job> {
    const job = await this.jobs.findJob(ref.jobId.toLowerCase(), ownerOf(ref));
    if (!job) throw DomainError.notFound('job');
    if (isTerminal(job.status)) throw new DomainError(ErrorCode.CONFLICT, `the job is already ${job.status}`);
    try {
      await this.engine.cancel(job.id);
    } catch (error) {
      this.logger.error({
        msg: 'could not stop the workflow',
        jobId: job.id,
        error: (error as Error).message,
      });
      throw new DomainError(
        ErrorCode.SERVICE_UNAVAILABLE,
        'The workflow engine is unavailable; the job keeps running',
      );
    }
    const now = this.clock.now();
    const outcome = await this.jobs.withLockedJob(job.id, async (tx, locked) => {
      if (isTerminal(locked.status)) return { cancelled: false, submittedMeanwhile: false };
      await this.jobs.cancelOpenInputs(tx, locked.id);
      locked.inputsOpen = 0;
      await this.applyEvent.finish(tx, locked, 'cancelled', now);
      locked.updatedAt = now;
      await tx.save(locked);
      // A workflow recorded after the engine was asked to stop the job's (none then) started in between.
      return { cancelled: true, submittedMeanwhile: locked.workflowName !== job.workflowName };
    });
    if (outcome?.submittedMeanwhile) await this.stopLateWorkflow(job.id);
    const cancelled = outcome?.cancelled ?? false;
    if (cancelled) {
      await this.outbox.flush(job.id);
      this.applyEvent.ended(job);
    }
    return this.get(ref);
  }

  /**
   * Follows what the engine reports. When a workflow ended and some inputs never reported (their callbacks
   * were lost), the sidecars a step leaves in storage tell what was done; the rest failed.
   */
  async reconcile(status: WorkflowStatus): Promise<void> {
    if (status.phase === 'Running' && !status.stopping) return this.applyEvent.markRunning(status.jobId);
    if (status.phase !== 'Succeeded' && status.phase !== 'Failed' && status.phase !== 'Error') return;
    if (status.stopping) return; // a cancel: `cancel()` finishes the job
    const job = await this.jobs.findWithInputs(status.jobId);
    if (!job || isTerminal(job.status)) return;
    const prefix = jobOutputPrefix(job, job.id);
    for (const input of job.documents ?? []) {
      if (input.status !== 'pending' && input.status !== 'running') continue;
      const sidecarKey = `${prefix}${input.inputId}.json`;
      const sidecar = await this.storage.getBytes(sidecarKey, 16 * 1024 * 1024);
      const base = {
        jobId: job.id,
        at: this.clock.now().toISOString(),
        chunk: input.chunk,
        inputId: input.inputId,
        docIds: input.docIds,
      };
      const event: JobEvent = sidecar
        ? (() => {
            const data = JSON.parse(sidecar.toString('utf8')) as {
              outputKey: string;
              outputBytes: number;
              usage: JobEvent['usage'];
            };
            return {
              ...base,
              id: `${job.id}:${input.chunk}:${input.inputId}:doc_completed`,
              type: 'doc_completed',
              output: { markdownKey: data.outputKey, sidecarKey, bytes: data.outputBytes },
              usage: data.usage,
            };
          })()
        : {
            ...base,
            id: `${job.id}:reconciled:${input.inputId}:doc_failed`,
            type: 'doc_failed',
            error: {
              kind: 'permanent',
              message: `the workflow ended (${status.phase}${status.message ? `: ${status.message}` : ''}) without a result for this input`,
            },
          };
      await this.applyEvent.apply(job, input, event);
    }
  }
}

/**
 * Whose jobs a request is about: the team's when it names one (the gateway checked the member's role), the
 * user's own otherwise. A team id that is there but is not one (empty, say) is refused, never read as the user's.
 */
export function ownerOf(request: { userId: string; teamId?: string | null }): JobOwner {
  const userId = request.userId.toLowerCase();
  if (request.teamId === undefined || request.teamId === null) return { userId, teamId: null };
  const teamId = String(request.teamId).toLowerCase();
  if (!UUID.test(teamId)) throw DomainError.validation('teamId', 'must be a team id (UUID)');
  return { userId, teamId };
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
