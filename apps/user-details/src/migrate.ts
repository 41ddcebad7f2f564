// Applies the user-details migrations and exits: what `npm start` and the Kubernetes migration Job run.
import 'reflect-metadata';
import { createServiceDataSource, ensureDatabase, runMigrations } from '@docflow/database';
import { createLogger } from '@docflow/observability';
import { ConfigError } from '@docflow/config';
import { USER_DETAILS_SCHEMA, loadUserDetailsConfig } from './config';
import { userDetailsDataSourceOptions } from './data-source.options';

async function main(): Promise<void> {
  const config = loadUserDetailsConfig();
  const logger = createLogger({ service: 'user-details', level: config.LOG_LEVEL });
  await ensureDatabase(config.DATABASE_URL);
  const dataSource = createServiceDataSource(userDetailsDataSourceOptions(config));
  try {
    const applied = await runMigrations(dataSource);
    logger.info(
      { applied, schema: USER_DETAILS_SCHEMA },
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
