import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import {
  DomainError,
  ErrorCode,
  JOB_EVENT_TYPES,
  JOB_STAGES,
  KeyVaultSubjects,
  type RevokeGrantsRequest,
  UsersDocsSubjects,
  jobOutputPrefix,
  verifyCallback,
  type DocumentSummary,
  type JobEvent,
  type JobEventType,
  type JobStatus,
  type JobStreamEvent,
  type RecordEventRequest,
  type RecordEventResult,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import type { WorkflowStatus } from '@docflow/workflow-engine';
import { Clock } from '../common/clock';
import { KeyedBatcher, type BatchOutcome } from '../common/keyed-batcher';
import { OutboxRelay } from '../events/outbox.relay';
import {
  applyToInput,
  canMove,
  countChange,
  countedFinalStatus,
  countedProgress,
  isTerminal,
  type InputCounters,
} from './job-state';
import { JobDocumentEntity } from './job-document.entity';
import { JobEntity } from './job.entity';
import {
  JobsRepository,
  type CallbackJob,
  type InputRow,
  type JobState,
  type NewEvent,
} from './jobs.repository';

/** An event waiting for its job's next batch (see ApplyJobEventUseCase.applyBatch). */
interface PendingEvent {
  event: JobEvent;
  inputId?: string;
  output?: DocumentSummary;
}

const eventSchema = z.object({
  id: z.string().min(1).max(300),
  jobId: z.string(),
  type: z.enum(JOB_EVENT_TYPES),
  at: z.string().max(64),
  chunk: z.number().int().nonnegative().optional(),
  inputId: z.string().max(128).optional(),
  docIds: z.array(z.string()).max(10_000).optional(),
  stage: z.enum(JOB_STAGES).optional(),
  progress: z.number().min(0).max(100).optional(),
  message: z.string().max(4000).optional(),
  output: z
    .object({
      markdownKey: z.string().max(1024),
      sidecarKey: z.string().max(1024),
      bytes: z.number().int().nonnegative(),
    })
    .optional(),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number() }).optional(),
  error: z.object({ kind: z.enum(['retryable', 'permanent']), message: z.string().max(4000) }).optional(),
});

const TERMINAL_EVENT: Record<string, JobEventType> = {
  completed: 'job_completed',
  completed_with_errors: 'job_completed',
  failed: 'job_failed',
  cancelled: 'job_cancelled',
};

/**
 * Applies a step's event to its job: verifies the HMAC signature with the job's secret (5-minute window),
 * drops a duplicate event id, moves the input and the job forward only (a late or repeated callback never
 * changes a finished job), registers outputs as documents of the user, stores every event in PostgreSQL and
 * publishes it on JetStream.
 */
@Injectable()
export class ApplyJobEventUseCase {
  private readonly logger = new Logger(ApplyJobEventUseCase.name);

  /** Set by the jobs service: what to do when a workflow reports that it ended. */
  onWorkflowEnded?: (status: WorkflowStatus) => Promise<void>;

  constructor(
    private readonly jobs: JobsRepository,
    private readonly services: ServiceClient,
    private readonly outbox: OutboxRelay,
    private readonly clock: Clock,
  ) {}

  /** Events of one job are applied one batch at a time, each batch in one transaction (see applyBatch). */
  private readonly batches = new KeyedBatcher<PendingEvent, boolean>((jobId, items) =>
    this.applyBatch(jobId, items),
  );

  /**
   * A signed callback from a step. `receivedAt` (unix seconds): when the gateway received a callback it had to
   * buffer; the 5-minute window counts from then instead of now.
   */
  async record(
    request: RecordEventRequest,
    options: { receivedAt?: number } = {},
  ): Promise<RecordEventResult> {
    const job = await this.jobs.callbackJob(request.jobId);
    if (!job) throw DomainError.notFound('job');
    const check = verifyCallback(
      job.callbackSecret,
      request.timestamp,
      request.signature,
      request.body,
      options.receivedAt,
    );
    if (!check.ok)
      throw new DomainError(ErrorCode.UNAUTHENTICATED, `callback refused: signature ${check.reason}`);
    let raw: unknown;
    try {
      raw = JSON.parse(request.body);
    } catch {
      throw DomainError.validation('body', 'is not JSON');
    }
    const parsed = eventSchema.safeParse(raw);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({
        field: i.path.join('.') || 'body',
        message: i.message,
      }));
      throw new DomainError(
        ErrorCode.VALIDATION_FAILED,
        details.map((d) => `${d.field}: ${d.message}`).join('; '),
        details,
      );
    }
    if (parsed.data.jobId !== job.id)
      throw DomainError.validation('jobId', 'does not match the job of the URL');
    const reported = parsed.data;
    const fromExitHandler =
      (reported.type === 'job_completed' || reported.type === 'job_failed') && !reported.inputId;
    const stepEvent = /^(stage_(started|progress|completed)|doc_(completed|failed))$/.test(reported.type);
    // A step reports its own stages and results; job-level events are the service's to make.
    if (!fromExitHandler && !stepEvent)
      throw DomainError.validation('type', `a step cannot report ${reported.type}`);
    if (!reported.id.startsWith(`${job.id}:`))
      throw DomainError.validation('id', 'must start with the job id');
    if (stepEvent && !reported.inputId)
      throw DomainError.validation('inputId', 'is not an input of this job');
    if (fromExitHandler) {
      // The workflow's exit handler: the workflow ended. Settle the job from what its steps left, the same
      // way a watched status does; the job's own final event follows from that.
      const current = await this.jobs.findJob(job.id);
      if (!current) throw DomainError.notFound('job');
      await this.onWorkflowEnded?.({
        jobId: job.id,
        workflowName: current.workflowName ?? '',
        phase: reported.type === 'job_completed' ? 'Succeeded' : 'Failed',
        ...(reported.message ? { message: reported.message } : {}),
      });
      return { accepted: true, duplicate: false };
    }
    const duplicate = !(await this.apply(job, { inputId: reported.inputId! }, parsed.data as JobEvent));
    return { accepted: true, duplicate };
  }

  /**
   * Applies an event (received or reconciled) to the job and its input. False when it was seen before.
   * Only the job row (locked) and the one input are touched: the job keeps counters of its inputs, so the
   * cost of a callback does not grow with the size of the job. Events of one job that arrive while another is
   * being applied are applied together in the next transaction (see applyBatch).
   */
  async apply(
    job: CallbackJob,
    input:
      | (Pick<JobDocumentEntity, 'inputId'> & Partial<Pick<JobDocumentEntity, 'docIds' | 'name' | 'status'>>)
      | undefined,
    event: JobEvent,
  ): Promise<boolean> {
    // Registering an output is idempotent (one document per object key), so it happens before the lock.
    let output: DocumentSummary | undefined;
    const ownKey = input ? `${jobOutputPrefix(job, job.id)}${input.inputId}.md` : undefined;
    if (event.type === 'doc_completed' && event.output && event.output.markdownKey !== ownKey) {
      throw DomainError.validation('output.markdownKey', 'is not the output key of this input');
    }
    if (event.type === 'doc_completed' && event.output && input) {
      const current = await this.jobs.inputForOutput(job.id, input.inputId);
      if (!current) throw DomainError.validation('inputId', 'is not an input of this job');
      if (!isTerminal(current.jobStatus) && current.status !== 'failed' && current.status !== 'cancelled') {
        output = await this.services.send<DocumentSummary>(UsersDocsSubjects.documentRegisterOutput, {
          userId: job.userId,
          // A team's job makes documents of the team.
          ...(job.teamId ? { teamId: job.teamId } : {}),
          jobId: job.id,
          sourceDocIds: current.docIds,
          key: event.output.markdownKey,
          name: outputName(current.name, job.crew),
          contentType: 'text/markdown',
          size: event.output.bytes,
        });
      }
    }
    return this.batches.submit(job.id, {
      event,
      ...(input ? { inputId: input.inputId } : {}),
      ...(output ? { output } : {}),
    });
  }

  /**
   * Applies a job's events in one transaction, in the order they arrived, as if one after the other: the job
   * row locked (so other replicas wait), the inputs they touch and the ids already stored read in one query,
   * everything they change written in one statement. A duplicate id (stored before, or earlier in the batch)
   * changes nothing; once the job is finished, further events are stored for the record and not published.
   */
  private async applyBatch(jobId: string, items: PendingEvent[]): Promise<BatchOutcome<boolean>[]> {
    let ended: JobState | undefined;
    let publish = false;
    const outcomes = await this.jobs.transaction(async (tx) => {
      const locked = await this.jobs.lockJobState(tx, jobId);
      if (!locked) return items.map(() => ({ ok: false as const, error: DomainError.notFound('job') }));
      const inputIds = [...new Set(items.flatMap((i) => (i.inputId ? [i.inputId] : [])))];
      const { inputs, seen } = await this.jobs.inputsAndSeenEvents(
        tx,
        jobId,
        inputIds,
        items.map((i) => i.event.id),
      );
      const changedInputs = new Map<string, InputRow>();
      const events: NewEvent[] = [];
      let jobChanged = false;
      const results = items.map(({ event, inputId, output }): BatchOutcome<boolean> => {
        const target = inputId ? inputs.get(inputId) : undefined;
        if (inputId && !target)
          return { ok: false, error: DomainError.validation('inputId', 'is not an input of this job') };
        if (seen.has(event.id)) return { ok: true, value: false };
        seen.add(event.id);
        const now = this.clock.now();
        if (isTerminal(locked.status)) {
          // Kept for the record; a finished job does not change and the event is not published.
          events.push({
            eventId: event.id,
            type: event.type,
            payload: { ...event },
            pending: false,
            createdAt: now,
          });
          return { ok: true, value: true };
        }
        if (target) {
          const before = { status: target.status, progress: target.progress };
          const next = applyToInput(
            { status: target.status, stage: target.stage, progress: target.progress },
            event,
          );
          target.status = next.status;
          target.stage = next.stage;
          target.progress = next.progress;
          if (event.type === 'doc_completed' && output) target.outputDocId = output.id;
          if (event.type === 'doc_failed' && event.error && next.status === 'failed')
            target.error = event.error.message;
          changedInputs.set(target.inputId, target);
          const counted = countChange(before, target);
          locked.inputsOpen += counted.open;
          locked.inputsCompleted += counted.completed;
          locked.progressSum += counted.progress;
        }
        if (event.type === 'doc_completed' && event.usage) {
          locked.usage = {
            inputTokens: locked.usage.inputTokens + event.usage.inputTokens,
            outputTokens: locked.usage.outputTokens + event.usage.outputTokens,
            totalTokens: locked.usage.totalTokens + event.usage.totalTokens,
          };
        }
        const progress = countedProgress(locked);
        const started = this.startEvent(locked, now);
        if (started) events.push(started);
        events.push({
          eventId: event.id,
          type: event.type,
          payload: {
            ...event,
            status: locked.status,
            progress,
            ...(output ? { outputDocId: output.id } : {}),
          },
          pending: true,
          createdAt: now,
        });
        const final = countedFinalStatus(locked);
        if (final) {
          events.push(this.finishEvent(locked, final, now));
          ended = locked;
        }
        locked.updatedAt = now;
        jobChanged = true;
        return { ok: true, value: true };
      });
      if (events.length > 0 || changedInputs.size > 0)
        await this.jobs.writeApplied(tx, jobId, {
          inputs: [...changedInputs.values()],
          events,
          ...(jobChanged ? { job: locked } : {}),
        });
      publish = events.some((e) => e.pending);
      return results;
    });
    if (publish) void this.outbox.flush(jobId);
    if (ended) this.ended(ended);
    return outcomes;
  }

  /**
   * After a job ended (committed): its grant on a provider key stops at once rather than at expiry. Best effort:
   * a grant that could not be revoked still expires with the job's deadline.
   */
  ended(job: Pick<JobEntity, 'id' | 'apiKeyId'>): void {
    if (!job.apiKeyId) return;
    this.services
      .send(KeyVaultSubjects.grantRevoke, { jobId: job.id } satisfies RevokeGrantsRequest)
      .catch((error: unknown) =>
        this.logger.warn({
          msg: "could not revoke the job's key grant; it expires with the job",
          jobId: job.id,
          error: (error as Error).message,
        }),
      );
  }

  /** The engine says the workflow runs: the job is `running` (and `job_started` recorded) if it was not yet. */
  async markRunning(jobId: string): Promise<void> {
    const now = this.clock.now();
    const started = await this.jobs.withLockedJob(jobId, async (tx, locked) => {
      if (!(await this.start(tx, locked, now))) return false;
      locked.updatedAt = now;
      await tx.save(locked);
      return true;
    });
    if (started) void this.outbox.flush(jobId);
  }

  /** Moves a submitted job to `running` and records `job_started`; false when it was past that. */
  private async start(tx: EntityManager, job: JobEntity, now: Date): Promise<boolean> {
    const started = this.startEvent(job, now);
    if (!started) return false;
    await this.jobs.insertEvent(tx, { jobId: job.id, ...started });
    return true;
  }

  /** Moves a submitted job to `running`; the `job_started` event to store, or undefined when it was past that. */
  private startEvent(job: Pick<JobState, 'id' | 'status' | 'startedAt' | keyof InputCounters>, now: Date) {
    if (!canMove(job.status, 'running')) return undefined;
    job.status = 'running';
    job.startedAt = now;
    const started = {
      id: `${job.id}:job_started`,
      jobId: job.id,
      type: 'job_started' as const,
      at: now.toISOString(),
      status: 'running' as JobStatus,
      progress: countedProgress(job),
    };
    return { eventId: started.id, type: started.type, payload: started, pending: true, createdAt: now };
  }

  /** Moves the job to a final status and records the matching job_* event. Call with the job locked. */
  async finish(
    tx: Parameters<Parameters<JobsRepository['withLockedJob']>[1]>[0],
    job: Pick<JobState, 'id' | 'status' | 'finishedAt' | 'error'>,
    status: JobStatus,
    now: Date,
    error?: string,
  ) {
    const event = this.finishEvent(job, status, now, error);
    await this.jobs.insertEvent(tx, { jobId: job.id, ...event });
    return event.payload;
  }

  /** Moves the job to a final status; the matching job_* event to store. */
  private finishEvent(
    job: Pick<JobState, 'id' | 'status' | 'finishedAt' | 'error'>,
    status: JobStatus,
    now: Date,
    error?: string,
  ) {
    job.status = status;
    job.finishedAt = now;
    if (error) job.error = error;
    const type = TERMINAL_EVENT[status]!;
    const event = {
      id: `${job.id}:${type}`,
      jobId: job.id,
      type,
      at: now.toISOString(),
      status,
      progress: status === 'failed' || status === 'cancelled' ? undefined : 100,
      ...(error ? { message: error } : {}),
    };
    this.logger.log({ msg: 'job finished', jobId: job.id, status });
    return {
      eventId: event.id,
      type,
      payload: event as JobStreamEvent & { id: string } & Record<string, unknown>,
      pending: true,
      createdAt: now,
    };
  }
}

/** `report.pdf` summarized → `report.summarize.md`. */
export function outputName(sourceName: string, crew: string): string {
  const stem = sourceName.replace(/\.[A-Za-z0-9]{1,8}$/, '') || 'output';
  return `${stem}.${crew}.md`.slice(-255);
}
