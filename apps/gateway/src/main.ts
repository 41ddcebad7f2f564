import 'reflect-metadata';
import { ConfigError, redactConfig } from '@docflow/config';
import { createLogger } from '@docflow/observability';
import { gatewayConfigSchema, loadGatewayConfig } from './config';
import { createGatewayApps } from './gateway.app';
import { NatsRpcClient } from '@docflow/messaging';

async function bootstrap(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const services = new NatsRpcClient({
    servers: config.NATS_URL,
    name: 'gateway',
    defaultTimeoutMs: config.RPC_TIMEOUT_MS,
  });
  services.start();
  const apps = await createGatewayApps(config, services, logger);
  await apps.publicApp.listen(config.HTTP_PORT, config.HTTP_HOST);
  await apps.privateApp.listen(config.PRIVATE_HTTP_PORT, config.PRIVATE_HTTP_HOST);
  logger.info(
    {
      config: redactConfig(gatewayConfigSchema, config),
      publicApi: `http://${config.HTTP_HOST}:${config.HTTP_PORT}/api/v1`,
      privateApi: `http://${config.PRIVATE_HTTP_HOST}:${config.PRIVATE_HTTP_PORT}/api/private`,
    },
    'gateway listening',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'gateway stopping');
    await apps.close();
    await services.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
