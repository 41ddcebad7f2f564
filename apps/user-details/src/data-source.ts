// The data source the TypeORM CLI uses (`typeorm migration:generate -d apps/user-details/dist/data-source.js`).
import 'reflect-metadata';
import { createServiceDataSource } from '@docflow/database';
import { loadUserDetailsConfig } from './config';
import { userDetailsDataSourceOptions } from './data-source.options';

export default createServiceDataSource(userDetailsDataSourceOptions(loadUserDetailsConfig()));
