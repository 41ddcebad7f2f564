import { z } from 'zod';
import { logLevel, loadConfig, positiveInt, secret } from '@docflow/config';

const MASTER_KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Base64 (standard or url-safe) that decodes to exactly 32 bytes. The message never repeats the value. */
const masterKey = z
  .string()
  .trim()
  .refine((value) => decodeMasterKey(value) !== undefined, {
    message: `must be ${MASTER_KEY_BYTES} random bytes in base64 (e.g. \`openssl rand -base64 32\`)`,
  });

export function decodeMasterKey(value: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === MASTER_KEY_BYTES ? bytes : undefined;
}

/** What the migrations and the TypeORM CLI need: the database, never the master key. */
const databaseFields = {
  DATABASE_URL: z.string().startsWith('postgres').default('postgres://postgres@127.0.0.1:5432/docflow'),
  DB_POOL_SIZE: positiveInt(10),
  LOG_LEVEL: logLevel,
};

export const keyVaultDatabaseConfigSchema = z.object(databaseFields);

export const keyVaultConfigSchema = z
  .object({
    ...databaseFields,
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    /** The active master key: wraps every new data key. A Kubernetes Secret in a cluster. */
    MASTER_KEY: secret(masterKey),
    /** Recorded beside every wrapped data key, so rotation knows what each one is wrapped with. */
    MASTER_KEY_ID: z.string().regex(KEY_ID, 'must be 1-64 letters, digits, ".", "_" or "-"').default('v1'),
    /** During a rotation only: the key being retired, still able to unwrap what it wrapped. */
    MASTER_KEY_PREVIOUS: secret(masterKey.optional()),
    MASTER_KEY_PREVIOUS_ID: z
      .string()
      .regex(KEY_ID, 'must be 1-64 letters, digits, ".", "_" or "-"')
      .optional(),
    /** How long JetStream waits for the ack of an erasure (a deleted user or team) before delivering it again. */
    DELETION_ACK_WAIT_MS: positiveInt(30_000),
    /** First delay before an erasure that failed (the database) is tried again; doubles up to the max. */
    DELETION_RETRY_BASE_MS: positiveInt(1_000),
    DELETION_RETRY_MAX_MS: positiveInt(60_000),
    /** The HTTP health endpoints (`/health/live`, `/health/ready`) for probes; off unless a port is set. */
    HEALTH_HOST: z.string().default('127.0.0.1'),
    HEALTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  })
  .superRefine((config, ctx) => {
    const previous = config.MASTER_KEY_PREVIOUS !== undefined;
    if (previous && !config.MASTER_KEY_PREVIOUS_ID) {
      ctx.addIssue({
        code: 'custom',
        path: ['MASTER_KEY_PREVIOUS_ID'],
        message: 'is required when MASTER_KEY_PREVIOUS is set',
      });
    }
    if (!previous && config.MASTER_KEY_PREVIOUS_ID) {
      ctx.addIssue({
        code: 'custom',
        path: ['MASTER_KEY_PREVIOUS'],
        message: 'is required when MASTER_KEY_PREVIOUS_ID is set',
      });
    }
    if (previous && config.MASTER_KEY_PREVIOUS_ID === config.MASTER_KEY_ID) {
      ctx.addIssue({
        code: 'custom',
        path: ['MASTER_KEY_PREVIOUS_ID'],
        message: 'must differ from MASTER_KEY_ID (a new key gets a new id)',
      });
    }
    if (previous && config.MASTER_KEY_PREVIOUS === config.MASTER_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['MASTER_KEY_PREVIOUS'],
        message: 'must differ from MASTER_KEY',
      });
    }
  });

/** The PostgreSQL schema key-vault owns. Its migrations name it, so it is not configurable. */
export const KEY_VAULT_SCHEMA = 'key_vault';

export type KeyVaultConfig = z.infer<typeof keyVaultConfigSchema>;

export const KEY_VAULT_CONFIG = Symbol('KEY_VAULT_CONFIG');

export type KeyVaultDatabaseConfig = z.infer<typeof keyVaultDatabaseConfigSchema>;

export function loadKeyVaultDatabaseConfig(
  env: Record<string, string | undefined> = process.env,
): KeyVaultDatabaseConfig {
  return loadConfig('key-vault', keyVaultDatabaseConfigSchema, env);
}

export function loadKeyVaultConfig(env: Record<string, string | undefined> = process.env): KeyVaultConfig {
  return loadConfig('key-vault', keyVaultConfigSchema, env);
}
