import { Inject, Injectable } from '@nestjs/common';
import {
  IdentityDeletionConsumers,
  IdentityEventSubjects,
  parseIdentityDeletion,
  type IdentityDeletion,
} from '@docflow/contracts';
import { DurableConsumer, NatsRpcClient, STREAMS } from '@docflow/messaging';
import { USER_DETAILS_CONFIG, type UserDetailsConfig } from '../config';
import { EraseUserDetailsUseCase } from './erase-user-details.usecase';

/**
 * Erases a deleted account's details from the durable JetStream pull consumer `user-details-deletions` on
 * `identity.user.deleted` (stream IDENTITY_EVENTS; see {@link DurableConsumer}). A consumer of its own, beside the
 * setup's: a setup waiting for identity never holds a deletion back.
 */
@Injectable()
export class UserDeletedConsumer extends DurableConsumer<IdentityDeletion> {
  constructor(
    nats: NatsRpcClient,
    erase: EraseUserDetailsUseCase,
    @Inject(USER_DETAILS_CONFIG) config: UserDetailsConfig,
  ) {
    super(
      nats,
      {
        stream: STREAMS.identityEvents,
        durable: IdentityDeletionConsumers.userDetails,
        filterSubject: IdentityEventSubjects.userDeleted,
        ackWaitMs: config.DELETION_ACK_WAIT_MS,
        retryBaseMs: config.DELETION_RETRY_BASE_MS,
        retryMaxMs: config.DELETION_RETRY_MAX_MS,
        parse: (subject, data) => {
          const deletion = parseIdentityDeletion(subject, data);
          return deletion?.kind === 'user' ? deletion : undefined;
        },
        handle: async (deletion) => {
          if (deletion.kind === 'user') await erase.execute(deletion.id, deletion.event);
          return { kind: 'done' };
        },
        requestId: (deletion) => `event-${deletion.event.eventId}`,
        describe: (deletion) => ({ userId: deletion.id, eventId: deletion.event.eventId }),
      },
      UserDeletedConsumer.name,
    );
  }
}
