import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createServiceDataSource } from '@docflow/database';
import { NatsRpcClient, ServiceClient } from '@docflow/messaging';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsRepository } from './accounts/accounts.repository';
import { AccountsService } from './accounts/accounts.service';
import { PasswordHasher } from './accounts/password-hasher';
import { UsersDirectory } from './accounts/users-directory';
import { AuditController } from './audit/audit.controller';
import { AuditLog } from './audit/audit-log';
import { AuditRepository } from './audit/audit.repository';
import { KeyAuditConsumer } from './audit/key-audit.consumer';
import { Clock } from './common/clock';
import { IDENTITY_CONFIG, type IdentityConfig } from './config';
import { identityDataSourceOptions } from './data-source.options';
import { HealthController } from './health/health.controller';
import { SigningKeys } from './keys/signing-keys';
import { OutboxRelay } from './outbox/outbox.relay';
import { RateLimits } from './rate-limit/rate-limits';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsRepository } from './sessions/sessions.repository';
import { SessionsService } from './sessions/sessions.service';
import { TeamsController } from './teams/teams.controller';
import { TeamsRepository } from './teams/teams.repository';
import { TeamsService } from './teams/teams.service';
import { TokensController } from './tokens/tokens.controller';
import { TokensRepository } from './tokens/tokens.repository';
import { TokensService } from './tokens/tokens.service';

/**
 * Connects to NATS for outgoing calls, loads the keys, makes the configured first admin, and consumes the key
 * vault's audit events.
 */
class IdentityLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('IdentityLifecycle');
  private stopped = false;
  bootstrapped?: Promise<void>;

  constructor(
    private readonly nats: NatsRpcClient,
    private readonly keys: SigningKeys,
    private readonly accounts: AccountsService,
    private readonly dataSource: DataSource,
    private readonly keyAudit: KeyAuditConsumer,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.nats.start();
    this.keyAudit.start();
    await this.keys.init();
    const { BOOTSTRAP_ADMIN_EMAIL: email, BOOTSTRAP_ADMIN_PASSWORD: password } = this.config;
    if (email && password) this.bootstrapped = this.bootstrapAdmin(email, password);
  }

  /** Retries until users-docs answers (it may start after identity). */
  private async bootstrapAdmin(email: string, password: string): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const outcome = await this.accounts.bootstrapAdmin(email, password, this.config.BOOTSTRAP_ADMIN_NAME);
        if (outcome === 'refused')
          this.logger.error({
            msg: 'BOOTSTRAP_ADMIN_EMAIL belongs to an account with another password: not made admin',
          });
        else this.logger.log({ msg: 'bootstrap admin', outcome });
        return;
      } catch (error) {
        if (attempt % 20 === 0)
          this.logger.warn({ msg: 'bootstrap admin: retrying', error: (error as Error).message });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.bootstrapped;
    await this.keyAudit.stop();
    await this.nats.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Module({})
export class IdentityModule {
  static forRoot(config: IdentityConfig): DynamicModule {
    const nats = new NatsRpcClient({
      servers: config.NATS_URL,
      name: 'identity',
      defaultTimeoutMs: config.RPC_TIMEOUT_MS,
    });
    return {
      module: IdentityModule,
      controllers: [
        AccountsController,
        SessionsController,
        TokensController,
        TeamsController,
        AuditController,
        HealthController,
      ],
      providers: [
        { provide: IDENTITY_CONFIG, useValue: config },
        {
          provide: DataSource,
          useFactory: async () => createServiceDataSource(identityDataSourceOptions(config)).initialize(),
        },
        { provide: NatsRpcClient, useValue: nats },
        { provide: ServiceClient, useValue: nats },
        Clock,
        SigningKeys,
        PasswordHasher,
        RateLimits,
        UsersDirectory,
        AccountsRepository,
        SessionsRepository,
        TokensRepository,
        TeamsRepository,
        AuditRepository,
        AuditLog,
        KeyAuditConsumer,
        OutboxRelay,
        SessionsService,
        AccountsService,
        TokensService,
        TeamsService,
        IdentityLifecycle,
      ],
    };
  }
}
