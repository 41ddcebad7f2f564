// The data source the TypeORM CLI uses (`typeorm migration:generate -d apps/key-vault/dist/data-source.js`).
import 'reflect-metadata';
import { createServiceDataSource } from '@docflow/database';
import { loadKeyVaultDatabaseConfig } from './config';
import { keyVaultDataSourceOptions } from './data-source.options';

export default createServiceDataSource(keyVaultDataSourceOptions(loadKeyVaultDatabaseConfig()));
