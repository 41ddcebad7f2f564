// Applies the users-docs migrations and exits: what `npm start` and the Kubernetes migration Job run.
import 'reflect-metadata';
import { createServiceDataSource, ensureDatabase, runMigrations } from '@docflow/database';
import { createLogger } from '@docflow/observability';
import { ConfigError } from '@docflow/config';
import { USERS_DOCS_SCHEMA, loadUsersDocsConfig } from './config';
import { usersDocsDataSourceOptions } from './data-source.options';

async function main(): Promise<void> {
  const config = loadUsersDocsConfig();
  const logger = createLogger({ service: 'users-docs', level: config.LOG_LEVEL });
  await ensureDatabase(config.DATABASE_URL);
  const dataSource = createServiceDataSource(usersDocsDataSourceOptions(config));
  try {
    const applied = await runMigrations(dataSource);
    logger.info(
      { applied, schema: USERS_DOCS_SCHEMA },
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
