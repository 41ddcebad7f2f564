import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createServiceDataSource } from '@docflow/database';
import { NatsRpcClient, QuotaSource } from '@docflow/messaging';
import { ObjectStorage, storageFromConfig } from '@docflow/storage';
import { Clock } from './common/clock';
import { USERS_DOCS_CONFIG, type UsersDocsConfig } from './config';
import { DocumentQuota } from './documents/document-quota';
import { DocumentsController } from './documents/documents.controller';
import { DocumentsRepository } from './documents/documents.repository';
import { DocumentsService } from './documents/documents.service';
import { HealthController } from './health/health.controller';
import { ApplyStorageEventsUseCase } from './storage-events/apply-storage-events.usecase';
import { StorageEventsController } from './storage-events/storage-events.controller';
import { EraseTeamUseCase } from './teams/erase-team.usecase';
import { TeamDeletedConsumer } from './teams/team-deleted.consumer';
import { UsersController } from './users/users.controller';
import { UsersRepository } from './users/users.repository';
import { UsersService } from './users/users.service';
import { usersDocsDataSourceOptions } from './data-source.options';

@Injectable()
class ResourcesLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    private readonly nats: NatsRpcClient,
    private readonly teamDeletions: TeamDeletedConsumer,
  ) {}

  onApplicationBootstrap(): void {
    this.nats.start();
    this.teamDeletions.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.teamDeletions.stop();
    await this.nats.close();
    this.storage.destroy();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Module({})
export class UsersDocsModule {
  static forRoot(config: UsersDocsConfig): DynamicModule {
    return {
      module: UsersDocsModule,
      controllers: [UsersController, DocumentsController, StorageEventsController, HealthController],
      providers: [
        { provide: USERS_DOCS_CONFIG, useValue: config },
        {
          provide: DataSource,
          useFactory: async () => createServiceDataSource(usersDocsDataSourceOptions(config)).initialize(),
        },
        { provide: ObjectStorage, useFactory: () => storageFromConfig(config) },
        // Its own connection, for JetStream (identity's deletion events); requests come in through the transport.
        {
          provide: NatsRpcClient,
          useValue: new NatsRpcClient({
            servers: config.NATS_URL,
            name: 'users-docs',
            defaultTimeoutMs: 5_000,
          }),
        },
        // Whose quota: user-details', asked over the same connection (docs/user-details.md#quotas).
        {
          provide: QuotaSource,
          useFactory: (nats: NatsRpcClient) => new QuotaSource(nats, { cacheMs: config.QUOTA_CACHE_MS }),
          inject: [NatsRpcClient],
        },
        DocumentQuota,
        Clock,
        UsersRepository,
        DocumentsRepository,
        UsersService,
        DocumentsService,
        ApplyStorageEventsUseCase,
        EraseTeamUseCase,
        TeamDeletedConsumer,
        ResourcesLifecycle,
      ],
    };
  }
}
