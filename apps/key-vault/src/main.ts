import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { QueueGroups } from '@docflow/contracts';
import { ConfigError, redactConfig } from '@docflow/config';
import {
  RequestContextInterceptor,
  RpcErrorFilter,
  followConnection,
  startHealthServer,
} from '@docflow/messaging';
import { HealthController } from './health/health.controller';
import { PinoNestLogger, createLogger } from '@docflow/observability';
import { keyVaultConfigSchema, loadKeyVaultConfig } from './config';
import { KeyVaultModule } from './key-vault.module';

async function bootstrap(): Promise<void> {
  const config = loadKeyVaultConfig();
  const logger = createLogger({ service: 'key-vault', level: config.LOG_LEVEL });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(KeyVaultModule.forRoot(config), {
    transport: Transport.NATS,
    options: {
      servers: config.NATS_URL.split(','),
      queue: QueueGroups.keyVault,
      name: 'key-vault',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      noAsyncTraces: true,
    },
    logger: new PinoNestLogger(logger),
  });
  app.useGlobalFilters(new RpcErrorFilter());
  app.useGlobalInterceptors(new RequestContextInterceptor());
  app.enableShutdownHooks();
  const natsConnected = followConnection(app.status);
  await app.listen();
  if (config.HEALTH_PORT) {
    const health = app.get(HealthController);
    await startHealthServer({
      host: config.HEALTH_HOST,
      port: config.HEALTH_PORT,
      check: () => health.check(),
      natsConnected,
    });
  }
  logger.info({ config: redactConfig(keyVaultConfigSchema, config) }, 'key-vault listening on NATS');
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
