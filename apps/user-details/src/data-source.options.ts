import type { ServiceDataSourceOptions } from '@docflow/database';
import { USER_DETAILS_SCHEMA, type UserDetailsConfig } from './config';
import { DeletedUserEntity } from './details/deleted-user.entity';
import { UserDetailsEntity } from './details/user-details.entity';
import { migrations } from './migrations';

export function userDetailsDataSourceOptions(
  config: Pick<UserDetailsConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>,
): ServiceDataSourceOptions {
  return {
    url: config.DATABASE_URL,
    schema: USER_DETAILS_SCHEMA,
    poolSize: config.DB_POOL_SIZE,
    entities: [UserDetailsEntity, DeletedUserEntity],
    migrations,
    applicationName: 'docflow-user-details',
  };
}
