import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ApiKeysController } from './apikeys/apikeys.controller';
import { AuthenticationGuard } from './auth/authentication.guard';
import { Authenticator, IdentityAuthenticator, JwksCache } from './auth/identity.authenticator';
import { IdentityTeamAccess, TeamAccess } from './auth/team-access';
import { AuthController } from './identity/auth.controller';
import { TeamAuditController } from './teams/team-audit.controller';
import { TeamsController } from './teams/teams.controller';
import { GATEWAY_CONFIG, type GatewayConfig } from './config';
import { DocumentsController } from './documents/documents.controller';
import { TeamDocumentsController } from './documents/team-documents.controller';
import { JobEventsStream } from './jobs/job-events.stream';
import { JobsController } from './jobs/jobs.controller';
import { TeamJobsController } from './jobs/team-jobs.controller';
import { HealthController } from './health/health.controller';
import { HttpErrorFilter } from './http/error.filter';
import { RequestContextInterceptor } from './http/request-context.interceptor';
import { ServiceClient } from '@docflow/messaging';
import { UserDetailsController } from './user-details/user-details.controller';
import { SchedulesController } from './schedules/schedules.controller';
import { UsersController } from './users/users.controller';
import { JobCallbacksController } from './webhooks/job-callbacks.controller';
import { StorageWebhookController } from './webhooks/storage-webhook.controller';

function common(config: GatewayConfig, services: ServiceClient) {
  return [
    { provide: GATEWAY_CONFIG, useValue: config },
    { provide: ServiceClient, useValue: services },
    { provide: APP_FILTER, useClass: HttpErrorFilter },
    { provide: APP_INTERCEPTOR, useClass: RequestContextInterceptor },
  ];
}

/**
 * What a test may put in place of identity's authenticator and team access (`apps/gateway/src/testing`). Production
 * never passes any: `main.ts` calls `createGatewayApps` without overrides.
 */
export interface PublicApiOverrides {
  authenticator?: Authenticator;
  teamAccess?: TeamAccess;
}

/** The public API (`/api/v1`): every route passes the authentication guard unless marked `@Public()`. */
@Module({})
export class PublicApiModule {
  static forRoot(
    config: GatewayConfig,
    services: ServiceClient,
    overrides: PublicApiOverrides = {},
  ): DynamicModule {
    return {
      module: PublicApiModule,
      controllers: [
        AuthController,
        UsersController,
        DocumentsController,
        TeamDocumentsController,
        JobsController,
        TeamJobsController,
        TeamsController,
        TeamAuditController,
        ApiKeysController,
        UserDetailsController,
        SchedulesController,
        HealthController,
      ],
      providers: [
        ...common(config, services),
        JobEventsStream,
        JwksCache,
        IdentityAuthenticator,
        overrides.authenticator
          ? { provide: Authenticator, useValue: overrides.authenticator }
          : { provide: Authenticator, useExisting: IdentityAuthenticator },
        overrides.teamAccess
          ? { provide: TeamAccess, useValue: overrides.teamAccess }
          : { provide: TeamAccess, useClass: IdentityTeamAccess },
        { provide: APP_GUARD, useClass: AuthenticationGuard },
      ],
    };
  }
}

/** The private API (`/api/private`): on its own listener, never routed publicly; each route has its own guard. */
@Module({})
export class PrivateApiModule {
  static forRoot(config: GatewayConfig, services: ServiceClient): DynamicModule {
    return {
      module: PrivateApiModule,
      controllers: [StorageWebhookController, JobCallbacksController, HealthController],
      providers: common(config, services),
    };
  }
}
