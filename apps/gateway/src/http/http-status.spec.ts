import { ErrorCode } from '@docflow/contracts';
import { errorCodeForStatus, httpStatusFor } from './http-status';

describe(httpStatusFor.name, () => {
  it.each(Object.values(ErrorCode))('maps %s to a 4xx or 5xx status', (code) => {
    const sut = httpStatusFor(code);
    expect(sut).toBeGreaterThanOrEqual(400);
    expect(sut).toBeLessThan(600);
  });

  it.each([
    [ErrorCode.VALIDATION_FAILED, 400],
    [ErrorCode.NOT_FOUND, 404],
    [ErrorCode.CONFLICT, 409],
    [ErrorCode.IDEMPOTENCY_KEY_REUSED, 422],
    [ErrorCode.SERVICE_UNAVAILABLE, 503],
    [ErrorCode.INTERNAL, 500],
  ])('%s is %d', (code, status) => {
    expect(httpStatusFor(code)).toBe(status);
  });

  it('answers a used-up quota with 429 when waiting frees it (Retry-After), else 403', () => {
    expect(
      httpStatusFor(ErrorCode.QUOTA_EXCEEDED, { field: 'quota.maxJobsPerDay', retryAfterSeconds: 60 }),
    ).toBe(429);
    expect(httpStatusFor(ErrorCode.QUOTA_EXCEEDED, { field: 'quota.maxJobsPerDay' })).toBe(403);
    expect(httpStatusFor(ErrorCode.QUOTA_EXCEEDED, { field: 'quota.maxDocuments' })).toBe(403);
    expect(httpStatusFor(ErrorCode.QUOTA_EXCEEDED)).toBe(403);
  });

  it('round-trips the framework statuses', () => {
    for (const status of [401, 403, 404, 409, 413, 429, 503]) {
      expect(httpStatusFor(errorCodeForStatus(status))).toBe(status);
    }
    expect(errorCodeForStatus(415)).toBe(ErrorCode.VALIDATION_FAILED);
    expect(errorCodeForStatus(502)).toBe(ErrorCode.INTERNAL);
  });
});
