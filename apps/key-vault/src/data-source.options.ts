import { DeletedOwnerEntity } from './deletions/deleted-owner.entity';
import { OutboxEventEntity, type ServiceDataSourceOptions } from '@docflow/database';
import { KEY_VAULT_SCHEMA, type KeyVaultConfig } from './config';
import { GrantEntity } from './grants/grant.entity';
import { ApiKeyEntity } from './keys/api-key.entity';
import { DataKeyEntity } from './keys/data-key.entity';
import { migrations } from './migrations';
import { MasterKeyRotationEntity } from './rotation/master-key-rotation.entity';

export function keyVaultDataSourceOptions(
  config: Pick<KeyVaultConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>,
): ServiceDataSourceOptions {
  return {
    url: config.DATABASE_URL,
    schema: KEY_VAULT_SCHEMA,
    poolSize: config.DB_POOL_SIZE,
    entities: [
      DataKeyEntity,
      ApiKeyEntity,
      GrantEntity,
      MasterKeyRotationEntity,
      DeletedOwnerEntity,
      OutboxEventEntity,
    ],
    migrations,
    applicationName: 'docflow-key-vault',
  };
}
