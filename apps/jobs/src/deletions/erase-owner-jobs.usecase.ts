import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  KeyVaultSubjects,
  jobOutputPrefix,
  teamJobsPrefix,
  userJobsPrefix,
  type JobOwner,
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

/** Whose jobs go: a deleted user's own, or a deleted team's. */
export type DeletedOwner = { kind: 'user' | 'team'; id: string };

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
 * Removes what the jobs service holds of a deleted user or team, in an order that a crash at any point and the
 * event's redelivery finish safely (every step finds its work done, or does the rest):
 *
 * 1. the user's schedules and their runs: nothing starts again (a launch in progress finishes first); a team has
 *    no schedules;
 * 2. every job still active is cancelled exactly as the user's `DELETE /jobs/{id}` does (the engine stops the
 *    steps, then the job ends `cancelled`); an engine that cannot be reached fails the erasure, which is retried;
 * 3. the grants of the jobs that used a provider key are revoked (awaited, unlike the best-effort revoke at the
 *    end of a job);
 * 4. once no workflow of the owner still runs (a cancelled step may be writing its output as it stops: until then
 *    the erasure answers "not yet" and the event comes back after a delay), the objects under
 *    `users/<id>/jobs/` (manifests, outputs a step wrote late); for a team, those under `teams/<id>/jobs/` but
 *    the outputs that became documents of the team (users-docs erases the team's documents itself; the job
 *    rows say which those are, so a team without job rows left has no objects removed);
 * 5. the jobs' events in the JetStream stream, then the job rows with their inputs and stored events, in one
 *    transaction. Only now are the rows gone, so a rerun after a crash in steps 1–5 finds the jobs again.
 *
 * A user's jobs are the user's own: the jobs they started for a team are the team's and stay when the account
 * goes. A late callback or provider-key request for a deleted job then finds no job (`NOT_FOUND`, 404 to the
 * step, which gives up); the engine's status reports for it are ignored.
 */
@Injectable()
export class EraseOwnerJobsUseCase {
  private readonly logger = new Logger(EraseOwnerJobsUseCase.name);

  constructor(
    private readonly jobs: JobsRepository,
    private readonly jobsService: JobsService,
    private readonly schedules: SchedulesRepository,
    private readonly services: ServiceClient,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    private readonly publisher: EventsPublisher,
    @Inject(WORKFLOW_ENGINE) private readonly engine: WorkflowEngine,
  ) {}

  async execute(deleted: DeletedOwner, eventId: string): Promise<ErasedJobs | { stillRunning: string[] }> {
    const team = deleted.kind === 'team';
    const owner: JobOwner = team ? { userId: '', teamId: deleted.id } : { userId: deleted.id };
    const who = team ? { teamId: deleted.id } : { userId: deleted.id };
    const schedules = team ? 0 : await this.schedules.deleteAllForUser(deleted.id);
    const jobs = await this.jobs.jobsOf(owner);

    const cancelled: string[] = [];
    for (const job of jobs.filter((j) => !isTerminal(j.status))) {
      try {
        await this.jobsService.cancel({ jobId: job.id, userId: owner.userId, ...(team ? who : {}) });
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
      this.logger.log({ msg: "waiting for the owner's workflows to stop", ...who, eventId, stillRunning });
      return { stillRunning };
    }

    let objects = 0;
    if (team && jobs.length > 0) {
      // The outputs that became the team's documents are users-docs' to erase (with the team's documents): the
      // job rows say which they are, so objects go only while the rows are there (they go after the objects; a
      // repeated event finds neither).
      const documents = new Set(
        (await this.jobs.registeredOutputs(jobs.map((j) => j.id))).map(
          (o) => `${jobOutputPrefix(owner, o.jobId)}${o.inputId}.md`,
        ),
      );
      objects = await this.storage.deletePrefix(teamJobsPrefix(deleted.id), (key) => documents.has(key));
    } else if (!team) {
      objects = await this.storage.deletePrefix(userJobsPrefix(deleted.id));
    }

    let purgedEvents = 0;
    for (const job of jobs) purgedEvents += await this.publisher.purgeJob(job.id);
    const rows = await this.jobs.deleteJobs(
      owner,
      jobs.map((j) => j.id),
    );

    const erased = { schedules, cancelled, grantsRevoked, objects, purgedEvents, ...rows };
    if (schedules || jobs.length || objects) {
      this.logger.log({ msg: `${deleted.kind}'s jobs erased`, ...who, eventId, ...erased });
    } else {
      this.logger.debug({ msg: 'no jobs to erase', ...who, eventId });
    }
    return erased;
  }
}
