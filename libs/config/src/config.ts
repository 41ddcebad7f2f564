import { z } from 'zod';

/** Thrown at boot when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly issues: string[],
  ) {
    super(`Invalid configuration for ${service}:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const SECRET = Symbol('docflow.secret');

/** Marks a string field as a secret: `redactConfig` hides it, so it never reaches a log. */
export function secret<T extends z.ZodType>(schema: T): T {
  (schema as unknown as Record<symbol, boolean>)[SECRET] = true;
  return schema;
}

function isSecret(schema: unknown): boolean {
  let current = schema as { [SECRET]?: boolean; unwrap?: () => unknown } | undefined;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current[SECRET]) return true;
    current = typeof current.unwrap === 'function' ? (current.unwrap() as typeof current) : undefined;
  }
  return false;
}

/**
 * Parses `env` with `schema`. Every problem is reported at once, each naming the variable,
 * so a misconfigured deployment fails loudly at boot and says what to fix.
 */
export function loadConfig<T extends z.ZodObject>(
  service: string,
  schema: T,
  env: Record<string, string | undefined> = process.env,
): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)';
      return `${key}: ${issue.message}`;
    });
    throw new ConfigError(service, issues);
  }
  return result.data;
}

/** `scheme://user:password@host/...` with the password replaced; other strings unchanged. */
export function redactUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i, '$1:[redacted]@');
}

/**
 * A copy of a parsed config with every secret field replaced and every password inside a URL
 * (DATABASE_URL, NATS_URL, ...) hidden, safe to log.
 */
export function redactConfig<T extends z.ZodObject>(schema: T, config: z.infer<T>): Record<string, unknown> {
  const shape = schema.shape as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    if (isSecret(shape[key]) && value !== undefined) out[key] = '[redacted]';
    else out[key] = typeof value === 'string' ? value.split(',').map(redactUrlPassword).join(',') : value;
  }
  return out;
}

// ---- reusable field schemas ----

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const url = (fallback?: string) => (fallback === undefined ? z.url() : z.url().default(fallback));

export const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');
