// The data source the TypeORM CLI uses (`typeorm migration:generate -d apps/identity/dist/data-source.js`).
import 'reflect-metadata';
import { createServiceDataSource } from '@docflow/database';
import { loadIdentityConfig } from './config';
import { identityDataSourceOptions } from './data-source.options';

export default createServiceDataSource(identityDataSourceOptions(loadIdentityConfig()));
