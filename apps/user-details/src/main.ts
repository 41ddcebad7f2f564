import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { QueueGroups } from '@docflow/contracts';
import { ConfigError, redactConfig } from '@docflow/config';
import { PinoNestLogger, createLogger } from '@docflow/observability';
import { loadUserDetailsConfig, userDetailsConfigSchema } from './config';
import {
  RequestContextInterceptor,
  RpcErrorFilter,
  followConnection,
  startHealthServer,
} from '@docflow/messaging';
import { HealthController } from './health/health.controller';
import { UserDetailsModule } from './user-details.module';

async function bootstrap(): Promise<void> {
  const config = loadUserDetailsConfig();
  const logger = createLogger({ service: 'user-details', level: config.LOG_LEVEL });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(UserDetailsModule.forRoot(config), {
    transport: Transport.NATS,
    options: {
      servers: config.NATS_URL.split(','),
      queue: QueueGroups.userDetails,
      name: 'user-details',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      // nats.js otherwise builds an Error per message only to keep a stack trace.
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
  logger.info({ config: redactConfig(userDetailsConfigSchema, config) }, 'user-details listening on NATS');
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
