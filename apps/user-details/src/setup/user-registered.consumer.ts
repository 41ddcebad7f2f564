import { Inject, Injectable } from '@nestjs/common';
import { IdentityEventSubjects, USER_DETAILS_CONSUMER, type UserRegisteredEvent } from '@docflow/contracts';
import { DurableConsumer, NatsRpcClient, STREAMS } from '@docflow/messaging';
import { USER_DETAILS_CONFIG, type UserDetailsConfig } from '../config';
import { SetupNewUserUseCase } from './setup-new-user.usecase';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The event, checked; undefined when it is not one (such a message is terminated, never retried). */
export function parseUserRegistered(data: Uint8Array): UserRegisteredEvent | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Partial<UserRegisteredEvent>;
    const ok =
      typeof value.eventId === 'string' &&
      value.eventId.length > 0 &&
      typeof value.userId === 'string' &&
      UUID.test(value.userId) &&
      typeof value.email === 'string' &&
      value.email.includes('@') &&
      typeof value.name === 'string' &&
      typeof value.registeredAt === 'string';
    return ok ? (value as UserRegisteredEvent) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the new-user setup for every `identity.user.registered` event, from the durable JetStream pull consumer
 * `user-details` on the stream IDENTITY_EVENTS (see {@link DurableConsumer}: at least once, in order of arrival,
 * shared by the replicas). The event is acknowledged after the setup has committed; a setup that waits for
 * identity comes back with a growing delay; identity refusing the request itself leaves the row `pending_team`.
 */
@Injectable()
export class UserRegisteredConsumer extends DurableConsumer<UserRegisteredEvent> {
  constructor(
    nats: NatsRpcClient,
    setup: SetupNewUserUseCase,
    @Inject(USER_DETAILS_CONFIG) config: UserDetailsConfig,
  ) {
    super(
      nats,
      {
        stream: STREAMS.identityEvents,
        durable: USER_DETAILS_CONSUMER,
        filterSubject: IdentityEventSubjects.userRegistered,
        ackWaitMs: config.SETUP_ACK_WAIT_MS,
        retryBaseMs: config.SETUP_RETRY_BASE_MS,
        retryMaxMs: config.SETUP_RETRY_MAX_MS,
        parse: (_subject, data) => parseUserRegistered(data),
        handle: (event) => setup.execute(event),
        requestId: (event) => `event-${event.eventId}`,
        describe: (event) => ({ userId: event.userId, eventId: event.eventId }),
      },
      UserRegisteredConsumer.name,
    );
  }
}
