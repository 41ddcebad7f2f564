// The data source the TypeORM CLI uses (`typeorm migration:generate -d apps/jobs/dist/data-source.js`).
import 'reflect-metadata';
import { createServiceDataSource } from '@docflow/database';
import { loadJobsConfig } from './config';
import { jobsDataSourceOptions } from './data-source.options';

export default createServiceDataSource(jobsDataSourceOptions(loadJobsConfig()));
