import { Inject, Injectable } from '@nestjs/common';
import {
  IdentityDeletionConsumers,
  IdentityEventSubjects,
  parseIdentityDeletion,
  type IdentityDeletion,
} from '@docflow/contracts';
import { DurableConsumer, NatsRpcClient, STREAMS } from '@docflow/messaging';
import { USERS_DOCS_CONFIG, type UsersDocsConfig } from '../config';
import { EraseTeamUseCase } from './erase-team.usecase';

/**
 * Erases a deleted team's documents and objects, from the durable JetStream pull consumer
 * `users-docs-team-deletions` on `identity.team.deleted` (stream IDENTITY_EVENTS; see {@link DurableConsumer}:
 * at least once, acknowledged once the erasure is done, retried with a growing delay while the database or
 * storage fails). A user's own documents are not erased here: they go with the account, synchronously.
 */
@Injectable()
export class TeamDeletedConsumer extends DurableConsumer<IdentityDeletion> {
  constructor(
    nats: NatsRpcClient,
    erase: EraseTeamUseCase,
    @Inject(USERS_DOCS_CONFIG) config: UsersDocsConfig,
  ) {
    super(
      nats,
      {
        stream: STREAMS.identityEvents,
        durable: IdentityDeletionConsumers.usersDocsTeams,
        filterSubject: IdentityEventSubjects.teamDeleted,
        ackWaitMs: config.DELETION_ACK_WAIT_MS,
        retryBaseMs: config.DELETION_RETRY_BASE_MS,
        retryMaxMs: config.DELETION_RETRY_MAX_MS,
        parse: (subject, data) => parseIdentityDeletion(subject, data),
        handle: async (deletion) => {
          if (deletion.kind === 'team') await erase.execute(deletion.id, deletion.event.eventId);
          return { kind: 'done' };
        },
        requestId: (deletion) => `event-${deletion.event.eventId}`,
        describe: (deletion) => ({ teamId: deletion.id, eventId: deletion.event.eventId }),
      },
      TeamDeletedConsumer.name,
    );
  }
}
