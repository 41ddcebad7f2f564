// The data source the TypeORM CLI uses (`typeorm migration:generate -d apps/users-docs/dist/data-source.js`).
import 'reflect-metadata';
import { createServiceDataSource } from '@docflow/database';
import { loadUsersDocsConfig } from './config';
import { usersDocsDataSourceOptions } from './data-source.options';

export default createServiceDataSource(usersDocsDataSourceOptions(loadUsersDocsConfig()));
