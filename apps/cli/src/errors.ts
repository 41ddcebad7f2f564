/**
 * Exit codes: what a CI step branches on. Documented in docs/cli.md; keep both in step.
 */
export const ExitCode = {
  OK: 0,
  /**
   * The job failed or was cancelled (completed_with_errors too with --fail-on-errors), or the API refused the
   * operation (409, a used-up quota).
   */
  FAILED: 1,
  /** Bad arguments, or input the API rejected (400). */
  USAGE: 2,
  /** No credentials, or the API refused them (401, 403). */
  AUTH: 3,
  /** The document, job, token or key does not exist (404). */
  NOT_FOUND: 4,
  /** The API or the network failed (5xx, 429, a refused or dropped connection, a timeout). */
  UNAVAILABLE: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports on stderr and turns into its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** Further lines (one per field the API named). */
    readonly lines: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** An error answer of the API: `{ error: { code, message, details?, requestId } }`. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly fields: FieldProblem[],
    readonly requestId: string | undefined,
  ) {
    super(
      message,
      exitCodeForStatus(status, code),
      fields.map((f) => `${f.field}: ${f.message}`),
    );
    this.name = 'ApiError';
  }
}

export function exitCodeForStatus(status: number, code?: string): ExitCode {
  // A used-up quota (403, or 429 for the daily job limit) is a refusal, not a credentials problem nor an outage.
  if (code === 'QUOTA_EXCEEDED') return ExitCode.FAILED;
  if (status === 401 || status === 403) return ExitCode.AUTH;
  if (status === 404) return ExitCode.NOT_FOUND;
  if (status === 429 || status >= 500) return ExitCode.UNAVAILABLE;
  if (status === 409) return ExitCode.FAILED;
  return ExitCode.USAGE;
}

/** The `details` of a validation error, when they name fields. */
export function fieldProblems(details: unknown): FieldProblem[] {
  if (!Array.isArray(details)) return [];
  return details.filter(
    (d): d is FieldProblem =>
      typeof d === 'object' &&
      d !== null &&
      typeof (d as FieldProblem).field === 'string' &&
      typeof (d as FieldProblem).message === 'string',
  );
}

/** A failure to reach the API (refused, reset, timed out), with the cause in words. */
export function networkError(what: string, error: unknown): CliError {
  return new CliError(`${what}: ${describeCause(error)}`, ExitCode.UNAVAILABLE);
}

export function describeCause(error: unknown): string {
  // Duck-typed: errors from fetch may come from another realm (instanceof Error would not hold).
  const e = error as
    { name?: string; message?: string; cause?: { message?: string; code?: string } } | undefined;
  if (typeof e !== 'object' || e === null || typeof e.message !== 'string') return String(error);
  if (e.name === 'TimeoutError') return 'timed out';
  const cause = e.cause?.message || e.cause?.code;
  return cause ? `${e.message} (${cause})` : e.message;
}
