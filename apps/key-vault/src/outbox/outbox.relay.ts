import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TransactionalOutbox } from '@docflow/database';
import { NatsRpcClient, STREAMS, ensureStream } from '@docflow/messaging';
import { Clock } from '../common/clock';

/**
 * The vault's transactional outbox (the shared {@link TransactionalOutbox} of @docflow/database, table
 * `key_vault.outbox`): its audit events, added in the transaction of the key operation they record and published
 * to KEY_VAULT_AUDIT at least once, whether identity is up or not.
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
      ensureStream: (nc) => ensureStream(nc, STREAMS.keyVaultAudit),
    });
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
