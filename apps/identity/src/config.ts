import { resolve } from 'node:path';
import { z } from 'zod';
import { logLevel, loadConfig, positiveInt, secret } from '@docflow/config';

/** `points/seconds`: at most `points` in any window of `seconds`. */
const rateLimit = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const match = /^(\d{1,6})\/(\d{1,7})$/.exec(value.trim());
      if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
        ctx.addIssue({ code: 'custom', message: 'must be "<points>/<seconds>", e.g. 10/900' });
        return z.NEVER;
      }
      return { points: Number(match[1]), durationSeconds: Number(match[2]) };
    });

export const identityConfigSchema = z
  .object({
    DATABASE_URL: z.string().startsWith('postgres').default('postgres://postgres@127.0.0.1:5432/docflow'),
    DB_POOL_SIZE: positiveInt(10),
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    /** Rate-limit counters, shared by every replica. When it is unreachable, each replica limits in memory. */
    REDIS_URL: z.string().startsWith('redis').default('redis://127.0.0.1:6379'),
    /** Prefix of the rate-limit keys in Redis (tests give each run its own). */
    RATE_LIMIT_PREFIX: z.string().min(1).default('docflow:rl'),
    /** Login attempts per client IP, failed or not. */
    RATE_LIMIT_LOGIN_IP: rateLimit('30/300'),
    /** Failed logins per account (email), reset by a successful login. */
    RATE_LIMIT_LOGIN_ACCOUNT: rateLimit('10/900'),
    /** Signups per client IP. */
    RATE_LIMIT_SIGNUP_IP: rateLimit('10/3600'),
    /** Signup attempts per email address. */
    RATE_LIMIT_SIGNUP_ACCOUNT: rateLimit('5/3600'),
    /** Access tokens (JWT) live 15 minutes. */
    ACCESS_TOKEN_TTL_SECONDS: positiveInt(900).pipe(z.number().max(3600)),
    /** A session (refresh-token family) ends this long after its last refresh. */
    REFRESH_TOKEN_TTL_SECONDS: positiveInt(30 * 24 * 3600),
    JWT_ISSUER: z.string().default('docflow-identity'),
    JWT_AUDIENCE: z.string().default('docflow'),
    /**
     * The signing keys: a JSON array of private JWKs (`EdDSA`/Ed25519 or `ES256`/P-256), each with a `kid`.
     * Every one is published in the JWKS; `JWT_ACTIVE_KID` (default: the last) signs. A Kubernetes Secret in a
     * cluster. Unset: a development key is generated once and kept in `JWT_DEV_KEY_FILE`.
     */
    JWT_SIGNING_KEYS: secret(z.string()).optional(),
    JWT_ACTIVE_KID: z.string().optional(),
    JWT_DEV_KEY_FILE: z.string().default(resolve(process.cwd(), '.docflow/identity/dev-signing-key.json')),
    /** argon2id parameters (OWASP: m=19 MiB, t=2, p=1). */
    ARGON2_MEMORY_KIB: positiveInt(19_456).pipe(z.number().min(7_168).max(1_048_576)),
    ARGON2_TIME_COST: positiveInt(2).pipe(z.number().max(10)),
    ARGON2_PARALLELISM: positiveInt(1).pipe(z.number().max(8)),
    /** The first platform admin: created (or, with a matching password, promoted) at boot when set. */
    BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
    BOOTSTRAP_ADMIN_PASSWORD: secret(z.string().min(12, 'must be at least 12 characters')).optional(),
    BOOTSTRAP_ADMIN_NAME: z.string().min(1).max(200).default('Platform admin'),
    RPC_TIMEOUT_MS: positiveInt(5_000),
    /**
     * A users-docs record of an address without an account, older than this, is what a signup that crashed
     * between its two steps left: the next signup of the address removes it (when it holds no document) and
     * goes on. Younger, it is a signup in progress (`409`).
     */
    SIGNUP_ORPHAN_AFTER_MS: positiveInt(60_000).pipe(z.number().min(10_000)),
    LOG_LEVEL: logLevel,
    /** The HTTP health endpoints (`/health/live`, `/health/ready`) for probes; off unless a port is set. */
    HEALTH_HOST: z.string().default('127.0.0.1'),
    HEALTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  })
  .superRefine((config, ctx) => {
    if (!!config.BOOTSTRAP_ADMIN_EMAIL !== !!config.BOOTSTRAP_ADMIN_PASSWORD) {
      ctx.addIssue({
        code: 'custom',
        path: ['BOOTSTRAP_ADMIN_PASSWORD'],
        message: 'BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD go together',
      });
    }
    if (config.JWT_ACTIVE_KID && !config.JWT_SIGNING_KEYS) {
      ctx.addIssue({ code: 'custom', path: ['JWT_ACTIVE_KID'], message: 'needs JWT_SIGNING_KEYS' });
    }
  });

/** The PostgreSQL schema identity owns. Its migrations name it, so it is not configurable. */
export const IDENTITY_SCHEMA = 'identity';

export type IdentityConfig = z.infer<typeof identityConfigSchema>;
export type RateLimitRule = IdentityConfig['RATE_LIMIT_LOGIN_IP'];

export const IDENTITY_CONFIG = Symbol('IDENTITY_CONFIG');

export function loadIdentityConfig(env: Record<string, string | undefined> = process.env): IdentityConfig {
  return loadConfig('identity', identityConfigSchema, env);
}
