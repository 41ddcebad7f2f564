import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createServiceDataSource } from '@docflow/database';
import { ObjectStorage, storageFromConfig } from '@docflow/storage';
import { Clock } from './common/clock';
import { USERS_DOCS_CONFIG, type UsersDocsConfig } from './config';
import { DocumentsController } from './documents/documents.controller';
import { DocumentsRepository } from './documents/documents.repository';
import { DocumentsService } from './documents/documents.service';
import { HealthController } from './health/health.controller';
import { ApplyStorageEventsUseCase } from './storage-events/apply-storage-events.usecase';
import { StorageEventsController } from './storage-events/storage-events.controller';
import { UsersController } from './users/users.controller';
import { UsersRepository } from './users/users.repository';
import { UsersService } from './users/users.service';
import { usersDocsDataSourceOptions } from './data-source.options';

class ResourcesLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
  ) {}

  async onApplicationShutdown(): Promise<void> {
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
        Clock,
        UsersRepository,
        DocumentsRepository,
        UsersService,
        DocumentsService,
        ApplyStorageEventsUseCase,
        ResourcesLifecycle,
      ],
    };
  }
}
