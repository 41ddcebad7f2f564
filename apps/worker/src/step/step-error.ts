import type { FailureKind } from '@docflow/contracts';

/** A failure of one input (or of the whole step), classified so the exit code and retries follow. */
export class StepError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'StepError';
  }

  static permanent(message: string): StepError {
    return new StepError('permanent', message);
  }

  static retryable(message: string): StepError {
    return new StepError('retryable', message);
  }
}
