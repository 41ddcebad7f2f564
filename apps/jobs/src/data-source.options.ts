import type { ServiceDataSourceOptions } from '@docflow/database';
import { JOBS_SCHEMA, type JobsConfig } from './config';
import { JobEventEntity } from './events/job-event.entity';
import { JobDocumentEntity } from './jobs/job-document.entity';
import { JobEntity } from './jobs/job.entity';
import { migrations } from './migrations';
import { ScheduleRunEntity } from './schedules/schedule-run.entity';
import { ScheduleEntity } from './schedules/schedule.entity';

export function jobsDataSourceOptions(
  config: Pick<JobsConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>,
): ServiceDataSourceOptions {
  return {
    url: config.DATABASE_URL,
    schema: JOBS_SCHEMA,
    poolSize: config.DB_POOL_SIZE,
    entities: [JobEntity, JobDocumentEntity, JobEventEntity, ScheduleEntity, ScheduleRunEntity],
    migrations,
    applicationName: 'docflow-jobs',
  };
}
