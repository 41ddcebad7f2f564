import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TransactionalOutbox } from '@docflow/database';
import { NatsRpcClient, STREAMS, ensureStream } from '@docflow/messaging';
import { Clock } from '../common/clock';

/**
 * Identity's transactional outbox (the shared {@link TransactionalOutbox} of @docflow/database, table
 * `identity.outbox`): the events of IDENTITY_EVENTS (`identity.user.registered`, `identity.user.deleted`,
 * `identity.team.deleted`), added in the transaction of the change they report and published at least once.
 */
@Injectable()
export class OutboxRelay
  extends TransactionalOutbox
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  constructor(dataSource: DataSource, nats: NatsRpcClient, clock: Clock) {
    super(dataSource, {
      name: OutboxRelay.name,
      now: () => clock.now(),
      connection: () => (nats.isConnected() ? nats.natsConnection : undefined),
      ensureStream: (nc) => ensureStream(nc, STREAMS.identityEvents),
    });
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
