import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  KeyVaultSubjects,
  userJobsPrefix,
  type RevokeGrantsReply,
  type RevokeGrantsRequest,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import type { WorkflowEngine } from '@docflow/workflow-engine';
import { ObjectStorage } from '@docflow/storage';
import { EventsPublisher } from '../events/events.publisher';
import { isTerminal } from '../jobs/job-state';
import { JobsRepository } from '../jobs/jobs.repository';
import { JobsService, WORKFLOW_ENGINE } from '../jobs/jobs.service';
import { SchedulesRepository } from '../schedules/schedules.repository';

const FINISHED_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Error']);

/** What one erasure did (counts and ids only). */
export interface ErasedJobs {
  schedules: number;
  cancelled: string[];
  grantsRevoked: number;
  objects: number;
  purgedEvents: number;
  jobs: number;
  events: number;
}

/**
 * Removes what the jobs service holds of a deleted user, in an order that a crash at any point and the event's
 * redelivery finish safely (every step finds its work done, or does the rest):
 *
 * 1. the user's schedules and their runs: nothing starts again (a launch in progress finishes first);
 * 2. every job still active is cancelled exactly as the user's `DELETE /jobs/{id}` does (the engine stops the
 *    steps, then the job ends `cancelled`); an engine that cannot be reached fails the erasure, which is retried;
 * 3. the grants of the jobs that used a provider key are revoked (awaited, unlike the best-effort revoke at the
 *    end of a job);
 * 4. once no workflow of the user still runs (a cancelled step may be writing its output as it stops: until then
 *    the erasure answers "not yet" and the event comes back after a delay), the objects under
 *    `users/<id>/jobs/` (manifests, outputs a step wrote late);
 * 5. the jobs' events in the JetStream stream, then the job rows with their inputs and stored events, in one
 *    transaction. Only now are the rows gone, so a rerun after a crash in steps 1–5 finds the jobs again.
 *
 * A late callback or provider-key request for a deleted job then finds no job (`NOT_FOUND`, 404 to the step,
 * which gives up); the engine's status reports for it are ignored.
 */
@Injectable()
export class EraseUserJobsUseCase {
  private readonly logger = new Logger(EraseUserJobsUseCase.name);

  constructor(
    private readonly jobs: JobsRepository,
    private readonly jobsService: JobsService,
    private readonly schedules: SchedulesRepository,
    private readonly services: ServiceClient,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    private readonly publisher: EventsPublisher,
    @Inject(WORKFLOW_ENGINE) private readonly engine: WorkflowEngine,
  ) {}

  async execute(userId: string, eventId: string): Promise<ErasedJobs | { stillRunning: string[] }> {
    const schedules = await this.schedules.deleteAllForUser(userId);
    const jobs = await this.jobs.jobsOfUser(userId);

    const cancelled: string[] = [];
    for (const job of jobs.filter((j) => !isTerminal(j.status))) {
      try {
        await this.jobsService.cancel({ jobId: job.id, userId });
        cancelled.push(job.id);
      } catch (error) {
        // Ended (or gone) meanwhile: nothing to stop. An unavailable engine is thrown: the event comes back.
        const settled =
          error instanceof DomainError &&
          (error.code === ErrorCode.CONFLICT || error.code === ErrorCode.NOT_FOUND);
        if (!settled) throw error;
      }
    }

    let grantsRevoked = 0;
    for (const job of jobs.filter((j) => j.apiKeyId)) {
      const reply = await this.services.send<RevokeGrantsReply>(KeyVaultSubjects.grantRevoke, {
        jobId: job.id,
      } satisfies RevokeGrantsRequest);
      grantsRevoked += reply.revoked;
    }

    // Stopping takes a moment (argo: the pods end after `shutdown`); what a step writes meanwhile must go too.
    const stillRunning: string[] = [];
    for (const job of jobs.filter((j) => j.status !== 'queued')) {
      const workflow = await this.engine.status(job.id);
      if (workflow && !FINISHED_PHASES.has(workflow.phase)) stillRunning.push(job.id);
    }
    if (stillRunning.length > 0) {
      this.logger.log({ msg: "waiting for the user's workflows to stop", userId, eventId, stillRunning });
      return { stillRunning };
    }

    const objects = await this.storage.deletePrefix(userJobsPrefix(userId));

    let purgedEvents = 0;
    for (const job of jobs) purgedEvents += await this.publisher.purgeJob(job.id);
    const deleted = await this.jobs.deleteJobs(
      userId,
      jobs.map((j) => j.id),
    );

    const erased = { schedules, cancelled, grantsRevoked, objects, purgedEvents, ...deleted };
    if (schedules || jobs.length || objects) {
      this.logger.log({ msg: "user's jobs erased", userId, eventId, ...erased });
    } else {
      this.logger.debug({ msg: 'no jobs to erase', userId, eventId });
    }
    return erased;
  }
}
