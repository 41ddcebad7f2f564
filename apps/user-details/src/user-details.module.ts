import {
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createServiceDataSource } from '@docflow/database';
import { NatsRpcClient, ServiceClient } from '@docflow/messaging';
import { Clock } from './common/clock';
import { USER_DETAILS_CONFIG, type UserDetailsConfig } from './config';
import { userDetailsDataSourceOptions } from './data-source.options';
import { EraseUserDetailsUseCase } from './deletions/erase-user-details.usecase';
import { UserDeletedConsumer } from './deletions/user-deleted.consumer';
import { UserDetailsController } from './details/user-details.controller';
import { UserDetailsRepository } from './details/user-details.repository';
import { UserDetailsService } from './details/user-details.service';
import { HealthController } from './health/health.controller';
import { IdentityTeams } from './setup/identity-teams';
import { SetupNewUserUseCase } from './setup/setup-new-user.usecase';
import { UserRegisteredConsumer } from './setup/user-registered.consumer';

@Injectable()
class UserDetailsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly nats: NatsRpcClient,
    private readonly consumer: UserRegisteredConsumer,
    private readonly deletions: UserDeletedConsumer,
    private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    this.nats.start();
    this.consumer.start();
    this.deletions.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
    await this.deletions.stop();
    await this.nats.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Module({})
export class UserDetailsModule {
  static forRoot(config: UserDetailsConfig): DynamicModule {
    // Its own connection: JetStream for the events, request/reply to identity.
    const nats = new NatsRpcClient({
      servers: config.NATS_URL,
      name: 'user-details',
      defaultTimeoutMs: config.IDENTITY_TIMEOUT_MS,
    });
    return {
      module: UserDetailsModule,
      controllers: [UserDetailsController, HealthController],
      providers: [
        { provide: USER_DETAILS_CONFIG, useValue: config },
        {
          provide: DataSource,
          useFactory: async () => createServiceDataSource(userDetailsDataSourceOptions(config)).initialize(),
        },
        { provide: NatsRpcClient, useValue: nats },
        { provide: ServiceClient, useValue: nats },
        Clock,
        UserDetailsRepository,
        UserDetailsService,
        IdentityTeams,
        SetupNewUserUseCase,
        UserRegisteredConsumer,
        EraseUserDetailsUseCase,
        UserDeletedConsumer,
        UserDetailsLifecycle,
      ],
    };
  }
}
