import { Inject, Injectable } from '@nestjs/common';
import {
  IdentityDeletionConsumers,
  IdentityEventSubjects,
  parseIdentityDeletion,
  type IdentityDeletion,
} from '@docflow/contracts';
import { DurableConsumer, NatsRpcClient, STREAMS } from '@docflow/messaging';
import { JOBS_CONFIG, type JobsConfig } from '../config';
import { EraseOwnerJobsUseCase } from './erase-owner-jobs.usecase';

/**
 * Erases a deleted team's jobs from the durable JetStream pull consumer `jobs-team-deletions` on
 * `identity.team.deleted` (stream IDENTITY_EVENTS; a consumer of its own, as nats-server 2.9 takes one filter
 * subject per consumer; at least once, retried like `UserDeletedConsumer`). The objects of the team's jobs
 * go, but not their outputs that became the team's documents: users-docs erases those with the team's documents.
 */
@Injectable()
export class TeamDeletedConsumer extends DurableConsumer<IdentityDeletion> {
  constructor(nats: NatsRpcClient, erase: EraseOwnerJobsUseCase, @Inject(JOBS_CONFIG) config: JobsConfig) {
    super(
      nats,
      {
        stream: STREAMS.identityEvents,
        durable: IdentityDeletionConsumers.jobsTeams,
        filterSubject: IdentityEventSubjects.teamDeleted,
        ackWaitMs: config.DELETION_ACK_WAIT_MS,
        retryBaseMs: config.DELETION_RETRY_BASE_MS,
        retryMaxMs: config.DELETION_RETRY_MAX_MS,
        parse: (subject, data) => {
          const deletion = parseIdentityDeletion(subject, data);
          return deletion?.kind === 'team' ? deletion : undefined;
        },
        handle: async (deletion) => {
          const erased = await erase.execute(deletion, deletion.event.eventId);
          if ('stillRunning' in erased)
            return { kind: 'retry', reason: `${erased.stillRunning.length} workflow(s) still stopping` };
          return { kind: 'done' };
        },
        requestId: (deletion) => `event-${deletion.event.eventId}`,
        describe: (deletion) => ({ teamId: deletion.id, eventId: deletion.event.eventId }),
      },
      TeamDeletedConsumer.name,
    );
  }
}
