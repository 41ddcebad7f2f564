import type { ServiceDataSourceOptions } from '@docflow/database';
import { USERS_DOCS_SCHEMA, type UsersDocsConfig } from './config';
import { DocumentEntity } from './documents/document.entity';
import { DeletedTeamEntity } from './teams/deleted-team.entity';
import { UserEntity } from './users/user.entity';
import { migrations } from './migrations';

export function usersDocsDataSourceOptions(
  config: Pick<UsersDocsConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>,
): ServiceDataSourceOptions {
  return {
    url: config.DATABASE_URL,
    schema: USERS_DOCS_SCHEMA,
    poolSize: config.DB_POOL_SIZE,
    entities: [UserEntity, DocumentEntity, DeletedTeamEntity],
    migrations,
    applicationName: 'docflow-users-docs',
  };
}
