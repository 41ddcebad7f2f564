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
 * Erases a deleted user's jobs and schedules from the durable JetStream pull consumer `jobs-deletions` on
 * `identity.user.deleted` (stream IDENTITY_EVENTS; see {@link DurableConsumer}: at least once, acknowledged once
 * the erasure finished, retried with a growing delay while the engine, key-vault, storage or the database fail).
 * The jobs the user started for a team are the team's: they stay (see `TeamDeletedConsumer`).
 */
@Injectable()
export class UserDeletedConsumer extends DurableConsumer<IdentityDeletion> {
  constructor(nats: NatsRpcClient, erase: EraseOwnerJobsUseCase, @Inject(JOBS_CONFIG) config: JobsConfig) {
    super(
      nats,
      {
        stream: STREAMS.identityEvents,
        durable: IdentityDeletionConsumers.jobs,
        filterSubject: IdentityEventSubjects.userDeleted,
        ackWaitMs: config.DELETION_ACK_WAIT_MS,
        retryBaseMs: config.DELETION_RETRY_BASE_MS,
        retryMaxMs: config.DELETION_RETRY_MAX_MS,
        parse: (subject, data) => {
          const deletion = parseIdentityDeletion(subject, data);
          return deletion?.kind === 'user' ? deletion : undefined;
        },
        handle: async (deletion) => {
          const erased = await erase.execute(deletion, deletion.event.eventId);
          if ('stillRunning' in erased)
            return { kind: 'retry', reason: `${erased.stillRunning.length} workflow(s) still stopping` };
          return { kind: 'done' };
        },
        requestId: (deletion) => `event-${deletion.event.eventId}`,
        describe: (deletion) => ({ userId: deletion.id, eventId: deletion.event.eventId }),
      },
      UserDeletedConsumer.name,
    );
  }
}
