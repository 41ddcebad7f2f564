// Applies the identity migrations and exits: what `npm start` and the Kubernetes migration Job run.
import 'reflect-metadata';
import { createServiceDataSource, ensureDatabase, runMigrations } from '@docflow/database';
import { createLogger } from '@docflow/observability';
import { ConfigError } from '@docflow/config';
import { IDENTITY_SCHEMA, loadIdentityConfig } from './config';
import { identityDataSourceOptions } from './data-source.options';

async function main(): Promise<void> {
  const config = loadIdentityConfig();
  const logger = createLogger({ service: 'identity', level: config.LOG_LEVEL });
  await ensureDatabase(config.DATABASE_URL);
  const dataSource = createServiceDataSource(identityDataSourceOptions(config));
  try {
    const applied = await runMigrations(dataSource);
    logger.info(
      { applied, schema: IDENTITY_SCHEMA },
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
