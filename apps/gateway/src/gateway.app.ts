import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { REQUEST_ID_HEADER } from '@docflow/contracts';
import { PinoNestLogger, requestIdFrom, type Logger } from '@docflow/observability';
import type { GatewayConfig } from './config';
import { createValidationPipe } from './http/validation';
import { PrivateApiModule, PublicApiModule, type PublicApiOverrides } from './gateway.modules';
import type { ServiceClient } from '@docflow/messaging';

export const PUBLIC_PREFIX = 'api/v1';
export const PRIVATE_PREFIX = 'api/private';

function createAdapter(config: GatewayConfig, logger: Logger): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: 1024 * 1024,
    trustProxy: config.TRUST_PROXY,
    genReqId: (req: { headers: Record<string, unknown> }) => requestIdFrom(req.headers[REQUEST_ID_HEADER]),
    logger: false,
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
  });
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    logger.info({
      msg: 'request',
      requestId: request.id,
      method: request.method,
      route: request.routeOptions.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    });
  });
  return adapter;
}

export interface GatewayApps {
  publicApp: NestFastifyApplication;
  privateApp: NestFastifyApplication;
  /** Closes both listeners. The service client belongs to the caller. */
  close(): Promise<void>;
}

/** Builds the public and the private application (not yet listening). */
export async function createGatewayApps(
  config: GatewayConfig,
  services: ServiceClient,
  logger: Logger,
  overrides: PublicApiOverrides = {},
): Promise<GatewayApps> {
  const nestLogger = new PinoNestLogger(logger);
  const build = async (module: ReturnType<typeof PublicApiModule.forRoot>, prefix: string) => {
    // The raw body is kept for signed callbacks (the HMAC covers the exact bytes).
    const app = await NestFactory.create<NestFastifyApplication>(module, createAdapter(config, logger), {
      logger: nestLogger,
      rawBody: true,
    });
    app.setGlobalPrefix(prefix, { exclude: ['health/live', 'health/ready'] });
    app.useGlobalPipes(createValidationPipe());
    return app;
  };
  const publicApp = await build(PublicApiModule.forRoot(config, services, overrides), PUBLIC_PREFIX);
  const privateApp = await build(PrivateApiModule.forRoot(config, services), PRIVATE_PREFIX);
  return {
    publicApp,
    privateApp,
    async close() {
      await Promise.all([publicApp.close(), privateApp.close()]);
    },
  };
}
