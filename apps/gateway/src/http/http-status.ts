import { ErrorCode } from '@docflow/contracts';

function unhandled(code: never): never {
  throw new Error(`No HTTP status for error code ${String(code)}`);
}

/**
 * Every error code's HTTP status. Adding a code without a case here fails to compile. `details` matters for one
 * code: a used-up quota is 429 when waiting frees it (`details.retryAfterSeconds`, sent as `Retry-After`: the
 * daily job limit), else 403 (documents, storage, a limit of 0: only deleting or a larger quota helps).
 */
export function httpStatusFor(code: ErrorCode, details?: unknown): number {
  switch (code) {
    case ErrorCode.VALIDATION_FAILED:
      return 400;
    case ErrorCode.UNAUTHENTICATED:
      return 401;
    case ErrorCode.FORBIDDEN:
      return 403;
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.CONFLICT:
      return 409;
    case ErrorCode.PAYLOAD_TOO_LARGE:
      return 413;
    case ErrorCode.RATE_LIMITED:
      return 429;
    case ErrorCode.IDEMPOTENCY_KEY_REUSED:
      return 422;
    case ErrorCode.QUOTA_EXCEEDED:
      return typeof (details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds === 'number'
        ? 429
        : 403;
    case ErrorCode.SERVICE_UNAVAILABLE:
    case ErrorCode.STORAGE_UNAVAILABLE:
      return 503;
    case ErrorCode.INTERNAL:
      return 500;
    default:
      return unhandled(code);
  }
}

/** The code for an HTTP status raised by the framework itself (unknown route, bad JSON, ...). */
export function errorCodeForStatus(status: number): ErrorCode {
  if (status === 401) return ErrorCode.UNAUTHENTICATED;
  if (status === 403) return ErrorCode.FORBIDDEN;
  if (status === 404) return ErrorCode.NOT_FOUND;
  if (status === 409) return ErrorCode.CONFLICT;
  if (status === 413) return ErrorCode.PAYLOAD_TOO_LARGE;
  if (status === 429) return ErrorCode.RATE_LIMITED;
  if (status === 503) return ErrorCode.SERVICE_UNAVAILABLE;
  if (status >= 400 && status < 500) return ErrorCode.VALIDATION_FAILED;
  return ErrorCode.INTERNAL;
}
