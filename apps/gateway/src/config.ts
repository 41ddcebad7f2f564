import { isIP } from 'node:net';
import { z } from 'zod';
import { logLevel, loadConfig, port, positiveInt, secret } from '@docflow/config';

/** An IP address, or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrRange(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Which proxies in front of the gateway are trusted to say who the client is (Fastify's `trustProxy`): `false`
 * (X-Forwarded-For is ignored), a hop count (the client is the entry that many hops from the right), or a
 * comma-separated list of the proxies' addresses or CIDR ranges. Never `true`: trusting every hop lets a client
 * choose its IP (the leftmost X-Forwarded-For entry) and so escape the per-IP rate limits.
 */
export const trustProxy = z
  .string()
  .default('false')
  .transform((value, ctx): false | number | string[] => {
    const text = value.trim();
    if (text === '' || text === 'false' || text === '0') return false;
    if (/^\d+$/.test(text)) return Number(text);
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    const wrong = entries.filter((entry) => !isAddressOrRange(entry));
    if (text === 'true' || wrong.length || entries.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message:
          (text === 'true'
            ? 'true would trust every X-Forwarded-For hop, so a client could choose its IP'
            : `${wrong.map((entry) => JSON.stringify(entry)).join(', ')} is not an IP address or CIDR range`) +
          '; give false, the number of proxies in front of the gateway (e.g. 1 behind an ingress controller), ' +
          'or their addresses/CIDR ranges, comma-separated',
      });
      return z.NEVER;
    }
    return entries;
  });

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
  /** The proxies trusted for X-Forwarded-For (see {@link trustProxy}): the client IP of the rate limits. */
  TRUST_PROXY: trustProxy,
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
  SSE_HEARTBEAT_MS: positiveInt(15_000).pipe(z.number().min(100).max(30_000)),
  LOG_LEVEL: logLevel,
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadConfig('gateway', gatewayConfigSchema, env);
}
