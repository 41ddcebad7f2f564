import { z } from 'zod';
import { bool, logLevel, loadConfig, port, positiveInt, secret } from '@docflow/config';

export const gatewayConfigSchema = z.object({
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: port(8080),
  PRIVATE_HTTP_HOST: z.string().default('127.0.0.1'),
  PRIVATE_HTTP_PORT: port(8081),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** How long a request waits for a service before answering 503 (so a 503 comes within 2 s). */
  RPC_TIMEOUT_MS: positiveInt(1_500),
  /** Deletes that remove many objects get longer. */
  RPC_LONG_TIMEOUT_MS: positiveInt(30_000),
  /** Bearer token the object store's webhook target sends (MinIO `auth_token`). */
  STORAGE_WEBHOOK_TOKEN: secret(z.string().min(16, 'must be at least 16 characters')),
  TRUST_PROXY: bool(false),
  /** Access tokens must carry this issuer and audience (identity's JWT_ISSUER / JWT_AUDIENCE). */
  JWT_ISSUER: z.string().default('docflow-identity'),
  JWT_AUDIENCE: z.string().default('docflow'),
  /** How long the answer "this session is active" is reused before identity is asked again. */
  SESSION_CHECK_CACHE_MS: positiveInt(5_000).pipe(z.number().max(60_000)),
  /** How long a verified personal access token is reused before identity is asked again. */
  TOKEN_CACHE_MS: positiveInt(10_000).pipe(z.number().max(60_000)),
  /** The JWKS is fetched again on an unknown kid, at most this often. */
  JWKS_MIN_REFRESH_MS: positiveInt(5_000),
  /** The JWKS is fetched again at least this often, so a key removed from identity stops being trusted. */
  JWKS_MAX_AGE_MS: positiveInt(300_000),
  /** A job's event stream sends a `heartbeat` event this often (keeps proxies from closing an idle stream). */
  SSE_HEARTBEAT_MS: positiveInt(15_000).pipe(z.number().min(100).max(60_000)),
  LOG_LEVEL: logLevel,
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadConfig('gateway', gatewayConfigSchema, env);
}
