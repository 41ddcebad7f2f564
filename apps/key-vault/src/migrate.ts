// Applies the key-vault migrations and exits: what `npm start` and the Kubernetes migration Job run.
// It needs the database only: the master key stays with the service.
import 'reflect-metadata';
import { createServiceDataSource, ensureDatabase, runMigrations } from '@docflow/database';
import { createLogger } from '@docflow/observability';
import { ConfigError } from '@docflow/config';
import { KEY_VAULT_SCHEMA, loadKeyVaultDatabaseConfig } from './config';
import { keyVaultDataSourceOptions } from './data-source.options';

async function main(): Promise<void> {
  const config = loadKeyVaultDatabaseConfig();
  const logger = createLogger({ service: 'key-vault', level: config.LOG_LEVEL });
  await ensureDatabase(config.DATABASE_URL);
  const dataSource = createServiceDataSource(keyVaultDataSourceOptions(config));
  try {
    const applied = await runMigrations(dataSource);
    logger.info(
      { applied, schema: KEY_VAULT_SCHEMA },
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
