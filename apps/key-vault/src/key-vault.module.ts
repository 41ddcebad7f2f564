import {
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createServiceDataSource } from '@docflow/database';
import { NatsRpcClient } from '@docflow/messaging';
import { KeyAudit } from './audit/key-audit';
import { Clock } from './common/clock';
import { KEY_VAULT_CONFIG, type KeyVaultConfig } from './config';
import { EnvelopeCipher } from './crypto/envelope';
import { KeyProvider } from './crypto/key-provider';
import { keyProviderFromConfig } from './crypto/key-provider.factory';
import { keyVaultDataSourceOptions } from './data-source.options';
import { EraseOwnerUseCase } from './deletions/erase-owner.usecase';
import { IdentityDeletionsConsumer } from './deletions/identity-deletions.consumer';
import { GrantsController } from './grants/grants.controller';
import { GrantsRepository } from './grants/grants.repository';
import { GrantsService } from './grants/grants.service';
import { TeamMemberships } from './grants/team-memberships';
import { HealthController } from './health/health.controller';
import { ApiKeysController } from './keys/api-keys.controller';
import { ApiKeysRepository } from './keys/api-keys.repository';
import { ApiKeysService } from './keys/api-keys.service';
import { DataKeysRepository } from './keys/data-keys.repository';
import { OwnerDataKeys } from './keys/owner-data-keys';
import { OutboxRelay } from './outbox/outbox.relay';

@Injectable()
class KeyVaultLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly nats: NatsRpcClient,
    private readonly deletions: IdentityDeletionsConsumer,
    private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    this.nats.start();
    this.deletions.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.deletions.stop();
    await this.nats.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Module({})
export class KeyVaultModule {
  /**
   * `keyProvider` replaces the master keys of the configuration (a KMS, or a test's own); `clock` the time
   * (tests move it past a grant's expiry).
   */
  static forRoot(
    config: KeyVaultConfig,
    options: { keyProvider?: KeyProvider; clock?: Clock } = {},
  ): DynamicModule {
    const keyProvider = options.keyProvider ?? keyProviderFromConfig(config);
    return {
      module: KeyVaultModule,
      controllers: [ApiKeysController, GrantsController, HealthController],
      providers: [
        { provide: KEY_VAULT_CONFIG, useValue: config },
        {
          provide: DataSource,
          useFactory: async () => createServiceDataSource(keyVaultDataSourceOptions(config)).initialize(),
        },
        { provide: KeyProvider, useValue: keyProvider },
        { provide: EnvelopeCipher, useValue: new EnvelopeCipher(keyProvider) },
        {
          provide: NatsRpcClient,
          useValue: new NatsRpcClient({
            servers: config.NATS_URL,
            name: 'key-vault',
            defaultTimeoutMs: 5_000,
          }),
        },
        { provide: Clock, useValue: options.clock ?? new Clock() },
        OutboxRelay,
        KeyAudit,
        DataKeysRepository,
        ApiKeysRepository,
        GrantsRepository,
        OwnerDataKeys,
        ApiKeysService,
        GrantsService,
        TeamMemberships,
        EraseOwnerUseCase,
        IdentityDeletionsConsumer,
        KeyVaultLifecycle,
      ],
    };
  }
}
