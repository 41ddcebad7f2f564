/**
 * Error codes shared by every docflow service. A code crosses NATS as `{ code, message, details? }`
 * and each transport edge maps it exhaustively (see the gateway's `httpStatusFor`).
 */
export enum ErrorCode {
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED = 'RATE_LIMITED',
  /** An Idempotency-Key sent again with a different request (HTTP 422). */
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  /**
   * A quota of the user's plan is used up (docs/user-details.md#quotas): HTTP 429 with `Retry-After` when waiting
   * frees it (`details.retryAfterSeconds`: the daily job limit), 403 when only deleting or a larger quota does.
   */
  QUOTA_EXCEEDED = 'QUOTA_EXCEEDED',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  STORAGE_UNAVAILABLE = 'STORAGE_UNAVAILABLE',
  INTERNAL = 'INTERNAL',
}

/** One entry of `details` for a validation failure: which field, and what is wrong with it. */
export interface FieldError {
  field: string;
  message: string;
}

/** What crosses NATS when a handler fails. */
export interface RpcErrorPayload {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** The body of every error answered by the public and private HTTP APIs. */
export interface ErrorResponseBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: unknown;
    requestId: string;
  };
}

/** A failure the domain knows about. Services throw it; transport edges translate it. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static validation(field: string, message: string): DomainError {
    return new DomainError(ErrorCode.VALIDATION_FAILED, `${field}: ${message}`, [{ field, message }]);
  }

  static notFound(what: string): DomainError {
    return new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);
  }

  /** Too many attempts; `retryAfterSeconds` becomes the HTTP `Retry-After` header. */
  static rateLimited(retryAfterSeconds: number): DomainError {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    return new DomainError(ErrorCode.RATE_LIMITED, `Too many attempts; retry after ${seconds} s`, {
      retryAfterSeconds: seconds,
    });
  }

  toPayload(): RpcErrorPayload {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

const CODES = new Set<string>(Object.values(ErrorCode));

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && CODES.has(value);
}

/** True when `value` has the shape of an RPC error that crossed NATS. */
export function isRpcErrorPayload(value: unknown): value is RpcErrorPayload {
  return (
    typeof value === 'object' &&
    value !== null &&
    isErrorCode((value as RpcErrorPayload).code) &&
    typeof (value as RpcErrorPayload).message === 'string'
  );
}
