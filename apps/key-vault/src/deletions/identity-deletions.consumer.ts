import { Inject, Injectable } from '@nestjs/common';
import {
  IDENTITY_DELETIONS_FILTER,
  IdentityDeletionConsumers,
  parseIdentityDeletion,
  type IdentityDeletion,
} from '@docflow/contracts';
import { DurableConsumer, NatsRpcClient, STREAMS } from '@docflow/messaging';
import { KEY_VAULT_CONFIG, type KeyVaultConfig } from '../config';
import { EraseOwnerUseCase } from './erase-owner.usecase';

/**
 * Erases a deleted user's or team's keys, data key and grants, from the durable JetStream pull consumer
 * `key-vault` on `identity.*.deleted` (stream IDENTITY_EVENTS; see {@link DurableConsumer}: at least once,
 * acknowledged once the erasure committed, retried with a growing delay when the database fails).
 */
@Injectable()
export class IdentityDeletionsConsumer extends DurableConsumer<IdentityDeletion> {
  constructor(
    nats: NatsRpcClient,
    erase: EraseOwnerUseCase,
    @Inject(KEY_VAULT_CONFIG) config: KeyVaultConfig,
  ) {
    super(
      nats,
      {
        stream: STREAMS.identityEvents,
        durable: IdentityDeletionConsumers.keyVault,
        filterSubject: IDENTITY_DELETIONS_FILTER,
        ackWaitMs: config.DELETION_ACK_WAIT_MS,
        retryBaseMs: config.DELETION_RETRY_BASE_MS,
        retryMaxMs: config.DELETION_RETRY_MAX_MS,
        parse: parseIdentityDeletion,
        handle: async (deletion) => {
          await erase.execute({ ownerType: deletion.kind, ownerId: deletion.id }, deletion.event.eventId);
          return { kind: 'done' };
        },
        requestId: (deletion) => `event-${deletion.event.eventId}`,
        describe: (deletion) => ({
          ownerType: deletion.kind,
          ownerId: deletion.id,
          eventId: deletion.event.eventId,
        }),
      },
      IdentityDeletionsConsumer.name,
    );
  }
}
