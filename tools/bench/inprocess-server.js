#!/usr/bin/env node
// The gateway's public and private HTTP apps with the users-docs handlers called in-process instead of
// over NATS: the baseline `api.js` compares the NATS path with. It runs in a process of its own (started
// by api.js) so that, as on the NATS path, the load generator does not share an event loop with the server.
//
// Configuration comes from the same environment the launcher gives the services (DATABASE_URL, S3_*,
// HTTP_PORT, PRIVATE_HTTP_PORT, STORAGE_WEBHOOK_TOKEN, LOG_LEVEL, ...). NATS_URL is read but never used.
'use strict';
require('reflect-metadata');
const path = require('node:path');
const { NestFactory } = require('@nestjs/core');
const { DomainError, ErrorCode, UsersDocsSubjects } = require('@docflow/contracts');
const { PinoNestLogger, createLogger } = require('@docflow/observability');

const ROOT = path.resolve(__dirname, '../..');
const dist = (app, file) => require(path.join(ROOT, 'apps', app, 'dist', file));

const { loadGatewayConfig } = dist('gateway', 'config.js');
const { createGatewayApps } = dist('gateway', 'gateway.app.js');
const { ServiceClient } = require('@docflow/messaging');
const { loadUsersDocsConfig } = dist('users-docs', 'config.js');
const { UsersDocsModule } = dist('users-docs', 'users-docs.module.js');

/** Where Nest's `@MessagePattern()` keeps a handler's patterns (`PATTERN_METADATA` in @nestjs/microservices). */
const PATTERN_METADATA = 'microservices:pattern';

/**
 * Every `@MessagePattern` handler of the users-docs module, by subject. Each handler takes its payload
 * as its first argument (`@Payload()`), as all users-docs handlers do.
 */
function collectHandlers(context, controllers) {
  const handlers = new Map();
  for (const type of controllers) {
    const instance = context.get(type, { strict: false });
    const proto = Object.getPrototypeOf(instance);
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || typeof proto[name] !== 'function') continue;
      const patterns = Reflect.getMetadata(PATTERN_METADATA, proto[name]) || [];
      for (const pattern of patterns) {
        if (typeof pattern !== 'string') continue;
        handlers.set(pattern, (payload) => instance[name](payload));
      }
    }
  }
  // This path measures users-docs only; the gateway's readiness also asks jobs, key-vault and user-details, which play
  // no part in a document read, so it answers here as present.
  for (const service of ['jobs', 'key-vault', 'user-details']) {
    handlers.set(`${service}.health.check`, async () => ({ service, status: 'ok', checks: {} }));
  }
  for (const required of [UsersDocsSubjects.documentGet, UsersDocsSubjects.healthCheck]) {
    if (!handlers.has(required)) throw new Error(`no in-process handler found for ${required}`);
  }
  return handlers;
}

/**
 * The gateway's ServiceClient with the NATS hop taken out: `send` calls the users-docs handler directly.
 * Errors are translated as the users-docs RpcErrorFilter would: a DomainError keeps its code, anything else
 * becomes INTERNAL.
 */
class InProcessServiceClient extends ServiceClient {
  constructor(handlers, logger) {
    super();
    this.handlers = handlers;
    this.logger = logger;
  }

  async send(subject, payload) {
    const handler = this.handlers.get(subject);
    if (!handler) {
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, `No in-process handler for ${subject}`);
    }
    try {
      return await handler(payload);
    } catch (error) {
      if (error instanceof DomainError) throw error;
      this.logger.error({ msg: 'unhandled error in handler', subject, err: error });
      throw new DomainError(ErrorCode.INTERNAL, 'Internal error');
    }
  }

  isConnected() {
    return true;
  }
}

async function main() {
  const usersDocsConfig = loadUsersDocsConfig(process.env);
  const gatewayConfig = loadGatewayConfig(process.env);
  const level = gatewayConfig.LOG_LEVEL;

  const usersDocsLogger = createLogger({ service: 'users-docs-bench', level });
  const module = UsersDocsModule.forRoot(usersDocsConfig);
  const context = await NestFactory.createApplicationContext(module, {
    logger: new PinoNestLogger(usersDocsLogger),
    abortOnError: false,
  });
  const handlers = collectHandlers(context, module.controllers || []);

  const logger = createLogger({ service: 'gateway-bench', level });
  const client = new InProcessServiceClient(handlers, usersDocsLogger);
  const apps = await createGatewayApps(gatewayConfig, client, logger);
  await apps.publicApp.listen(gatewayConfig.HTTP_PORT, gatewayConfig.HTTP_HOST);
  await apps.privateApp.listen(gatewayConfig.PRIVATE_HTTP_PORT, gatewayConfig.PRIVATE_HTTP_HOST);
  console.log(
    `in-process gateway listening on http://${gatewayConfig.HTTP_HOST}:${gatewayConfig.HTTP_PORT}/api/v1; ` +
      `users-docs subjects served in-process: ${handlers.size}`,
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await apps.close().catch(() => undefined);
    await context.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
