import { z } from 'zod';
import { logLevel, loadConfig, positiveInt } from '@docflow/config';

/** `acme.com, example.org` → `['acme.com', 'example.org']`, lower case. */
const domainList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((d) => d.trim().toLowerCase())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z
        .string()
        .regex(
          /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
          'must be domain names such as acme.com',
        ),
    ),
  );

export const userDetailsConfigSchema = z.object({
  DATABASE_URL: z.string().startsWith('postgres').default('postgres://postgres@127.0.0.1:5432/docflow'),
  DB_POOL_SIZE: positiveInt(10),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /**
   * Email domains whose organisation pays for docflow: users who sign up with such an address start on the
   * `team` plan with an active subscription, a default team and the team quota (docs/user-details.md).
   */
  TEAM_PLAN_EMAIL_DOMAINS: domainList,
  /** How long JetStream waits for the ack of a setup before delivering the event again. */
  SETUP_ACK_WAIT_MS: positiveInt(30_000),
  /** First delay before a setup that could not finish (identity did not answer) is tried again; doubles up to the max. */
  SETUP_RETRY_BASE_MS: positiveInt(1_000),
  SETUP_RETRY_MAX_MS: positiveInt(60_000),
  /** The same three for the consumer of `identity.user.deleted` (the details of a deleted account go). */
  DELETION_ACK_WAIT_MS: positiveInt(30_000),
  DELETION_RETRY_BASE_MS: positiveInt(1_000),
  DELETION_RETRY_MAX_MS: positiveInt(60_000),
  /** How long a call to identity may take. */
  IDENTITY_TIMEOUT_MS: positiveInt(5_000),
  LOG_LEVEL: logLevel,
  /** The HTTP health endpoints (`/health/live`, `/health/ready`) for probes; off unless a port is set. */
  HEALTH_HOST: z.string().default('127.0.0.1'),
  HEALTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
});

/** The PostgreSQL schema user-details owns. Its migrations name it, so it is not configurable. */
export const USER_DETAILS_SCHEMA = 'user_details';

export type UserDetailsConfig = z.infer<typeof userDetailsConfigSchema>;

export const USER_DETAILS_CONFIG = Symbol('USER_DETAILS_CONFIG');

export function loadUserDetailsConfig(
  env: Record<string, string | undefined> = process.env,
): UserDetailsConfig {
  return loadConfig('user-details', userDetailsConfigSchema, env);
}
