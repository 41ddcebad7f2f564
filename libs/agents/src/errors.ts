/**
 * What a caller (the worker step) needs to decide about a failed crew run:
 * - `retryable`: try the step again later (HTTP 429, 5xx, network errors, timeouts);
 * - `permanent`: the same input fails again (invalid crew or params, 4xx, invalid model JSON after the retry);
 * - `cancelled`: the caller's AbortSignal fired; nothing to retry and nothing to report as a failure.
 */
export type EngineErrorKind = 'retryable' | 'permanent' | 'cancelled';

export const ENGINE_ERROR_CODES = [
  'invalid_crew',
  'invalid_params',
  'invalid_output',
  'unknown_provider',
  'model_setup',
  'unsupported',
  'model_rate_limited',
  'model_unavailable',
  'model_rejected',
  'model_timeout',
  'network',
  'cancelled',
  'unknown',
] as const;
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

export class EngineError extends Error {
  override readonly name = 'EngineError';

  constructor(
    readonly kind: EngineErrorKind,
    readonly code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown; details?: string[]; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.details = options?.details ?? [];
    this.status = options?.status;
  }

  /** Field-level messages (crew validation: `agents[1].role: Required`). */
  readonly details: string[];
  /** The HTTP status of the model call that failed, when there was one. */
  readonly status?: number;

  static permanent(code: EngineErrorCode, message: string, details?: string[]): EngineError {
    return new EngineError('permanent', code, message, { details });
  }

  static cancelled(cause?: unknown): EngineError {
    return new EngineError('cancelled', 'cancelled', 'cancelled', { cause });
  }
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function statusOf(error: unknown): number | undefined {
  for (const candidate of [
    field(error, 'status'),
    field(error, 'statusCode'),
    field(field(error, 'response'), 'status'),
    field(field(error, 'cause'), 'status'),
  ]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps whatever a model call finally threw (after the provider's own retries) to an EngineError, with the same
 * rules as the OpenAI provider's classification: 429 (unless the quota is exhausted), 408, 409, 425, 5xx,
 * network errors and timeouts are retryable; other 4xx and unrecognised errors are permanent.
 */
export function classifyModelError(error: unknown, context = 'model call'): EngineError {
  if (error instanceof EngineError) return error;
  const message = `${context} failed: ${messageOf(error)}`;
  const status = statusOf(error);
  if (status !== undefined) {
    if (status === 429) {
      return isQuotaExhausted(error)
        ? new EngineError('permanent', 'model_rejected', message, { cause: error, status })
        : new EngineError('retryable', 'model_rate_limited', message, { cause: error, status });
    }
    if (status === 408)
      return new EngineError('retryable', 'model_timeout', message, { cause: error, status });
    if (status === 409 || status === 425 || status >= 500) {
      return new EngineError('retryable', 'model_unavailable', message, { cause: error, status });
    }
    return new EngineError('permanent', 'model_rejected', message, { cause: error, status });
  }
  const lcCode = field(error, 'lc_error_code');
  if (lcCode === 'MODEL_RATE_LIMIT') {
    return new EngineError('retryable', 'model_rate_limited', message, { cause: error });
  }
  if (lcCode === 'MODEL_AUTHENTICATION' || lcCode === 'MODEL_NOT_FOUND') {
    return new EngineError('permanent', 'model_rejected', message, { cause: error });
  }
  const name = field(error, 'name');
  const code = field(error, 'code') ?? field(field(error, 'cause'), 'code');
  // The engine turns its caller's abort into `cancelled` before it gets here; any other abort is a timeout.
  if (
    name === 'TimeoutError' ||
    name === 'APIConnectionTimeoutError' ||
    name === 'AbortError' ||
    /timed? ?out/i.test(messageOf(error))
  ) {
    return new EngineError('retryable', 'model_timeout', message, { cause: error });
  }
  if (name === 'APIConnectionError' || (typeof code === 'string' && NETWORK_CODES.has(code))) {
    return new EngineError('retryable', 'network', message, { cause: error });
  }
  return new EngineError('permanent', 'unknown', message, { cause: error });
}

function isQuotaExhausted(error: unknown): boolean {
  const code = field(error, 'code') ?? field(field(field(error, 'error'), 'error'), 'code');
  return (
    code === 'insufficient_quota' || /insufficient_quota|exceeded your current quota/i.test(messageOf(error))
  );
}
