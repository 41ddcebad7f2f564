// `node apps/key-vault/dist/rotate-master-key.js [--batch-size N] [--status]`: re-wraps every data key under the
// active master key (MASTER_KEY / MASTER_KEY_ID), unwrapping with MASTER_KEY_PREVIOUS / MASTER_KEY_PREVIOUS_ID.
// Each batch is one transaction; a run that stops is resumed by running it again. See docs/key-vault.md.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import { ConfigError } from '@docflow/config';
import { createServiceDataSource } from '@docflow/database';
import { PinoNestLogger, createLogger } from '@docflow/observability';
import { Clock } from './common/clock';
import { loadKeyVaultConfig } from './config';
import { EnvelopeCipher } from './crypto/envelope';
import { keyProviderFromConfig } from './crypto/key-provider.factory';
import { keyVaultDataSourceOptions } from './data-source.options';
import { DataKeysRepository } from './keys/data-keys.repository';
import { MasterKeyRotationsRepository } from './rotation/master-key-rotations.repository';
import { RotateMasterKeyUseCase } from './rotation/rotate-master-key.usecase';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'batch-size': { type: 'string', default: '100' },
      status: { type: 'boolean', default: false },
    },
  });
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new Error('--batch-size must be an integer from 1 to 10000');
  }
  const config = loadKeyVaultConfig();
  const logger = createLogger({ service: 'key-vault-rotation', level: config.LOG_LEVEL });
  Logger.overrideLogger(new PinoNestLogger(logger));
  const dataSource = await createServiceDataSource(keyVaultDataSourceOptions(config)).initialize();
  try {
    if (await dataSource.showMigrations())
      throw new Error('the key_vault schema has pending migrations: run migrate.js first');
    const provider = keyProviderFromConfig(config);
    const dataKeys = new DataKeysRepository(dataSource);
    const rotations = new MasterKeyRotationsRepository(dataSource);
    if (values.status) {
      console.log(
        JSON.stringify(
          {
            activeMasterKeyId: provider.activeKeyId,
            dataKeysByMasterKey: await dataKeys.countByMasterKey(),
            rotations: await rotations.list(),
          },
          null,
          2,
        ),
      );
      return;
    }
    const sut = new RotateMasterKeyUseCase(
      dataKeys,
      rotations,
      provider,
      new EnvelopeCipher(provider),
      new Clock(),
    );
    const result = await sut.execute({
      batchSize,
      afterBatch: (done) => logger.info({ rewrapped: done }, 'batch committed'),
    });
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(
    error instanceof ConfigError ? error.message : `rotation failed: ${(error as Error).message}`,
  );
  process.exit(1);
});
