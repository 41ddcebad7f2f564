import { OutboxEventEntity, type ServiceDataSourceOptions } from '@docflow/database';
import { IDENTITY_SCHEMA, type IdentityConfig } from './config';
import { AccountEntity } from './accounts/account.entity';
import { AuditEventEntity } from './audit/audit-event.entity';
import { RefreshTokenEntity } from './sessions/refresh-token.entity';
import { SessionEntity } from './sessions/session.entity';
import { TeamMemberEntity } from './teams/team-member.entity';
import { TeamEntity } from './teams/team.entity';
import { PersonalAccessTokenEntity } from './tokens/personal-access-token.entity';
import { migrations } from './migrations';

export const IDENTITY_ENTITIES = [
  AccountEntity,
  SessionEntity,
  RefreshTokenEntity,
  PersonalAccessTokenEntity,
  TeamEntity,
  TeamMemberEntity,
  AuditEventEntity,
  OutboxEventEntity,
];

export function identityDataSourceOptions(
  config: Pick<IdentityConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>,
): ServiceDataSourceOptions {
  return {
    url: config.DATABASE_URL,
    schema: IDENTITY_SCHEMA,
    poolSize: config.DB_POOL_SIZE,
    entities: IDENTITY_ENTITIES,
    migrations,
    applicationName: 'docflow-identity',
  };
}
