import { Inject, Injectable } from '@nestjs/common';
import {
  IdentityDeletionConsumers,
  IDENTITY_DELETIONS_FILTER,
  parseIdentityDeletion,
  type IdentityDeletion,
} from '@docflow/contracts';
import { DurableConsumer, NatsRpcClient, STREAMS } from '@docflow/messaging';
import { USER_DETAILS_CONFIG, type UserDetailsConfig } from '../config';
import { EraseUserDetailsUseCase } from './erase-user-details.usecase';

/**
 * Erases a deleted account's details, and forgets a deleted team as anyone's default team, from the durable
 * JetStream pull consumer `user-details-deletions` on `identity.*.deleted` (stream IDENTITY_EVENTS; see
 * {@link DurableConsumer}). A consumer of its own, beside the setup's: a setup waiting for identity never holds a
 * deletion back.
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
        filterSubject: IDENTITY_DELETIONS_FILTER,
        ackWaitMs: config.DELETION_ACK_WAIT_MS,
        retryBaseMs: config.DELETION_RETRY_BASE_MS,
        retryMaxMs: config.DELETION_RETRY_MAX_MS,
        parse: (subject, data) => parseIdentityDeletion(subject, data),
        handle: async (deletion) => {
          if (deletion.kind === 'user') await erase.execute(deletion.id, deletion.event);
          else await erase.forgetTeam(deletion.id);
          return { kind: 'done' };
        },
        requestId: (deletion) => `event-${deletion.event.eventId}`,
        describe: (deletion) => ({
          [deletion.kind === 'user' ? 'userId' : 'teamId']: deletion.id,
          eventId: deletion.event.eventId,
        }),
      },
      UserDeletedConsumer.name,
    );
  }
}
