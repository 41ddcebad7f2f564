// Applies the jobs migrations and exits.
import 'reflect-metadata';
import { ConfigError } from '@docflow/config';
import { createServiceDataSource, ensureDatabase, runMigrations } from '@docflow/database';
import { createLogger } from '@docflow/observability';
import { JOBS_SCHEMA, loadJobsConfig } from './config';
import { jobsDataSourceOptions } from './data-source.options';

async function main(): Promise<void> {
  const config = loadJobsConfig();
  const logger = createLogger({ service: 'jobs', level: config.LOG_LEVEL });
  await ensureDatabase(config.DATABASE_URL);
  const dataSource = createServiceDataSource(jobsDataSourceOptions(config));
  try {
    const applied = await runMigrations(dataSource);
    logger.info(
      { applied, schema: JOBS_SCHEMA },
      applied.length ? 'migrations applied' : 'schema up to date',
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
