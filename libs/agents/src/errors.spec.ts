import { classifyModelError, EngineError } from './errors';

describe(classifyModelError.name, () => {
  const sut = classifyModelError;
  const status = (s: number, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(`HTTP ${s}`), { status: s, ...extra });

  it.each([
    [429, 'retryable', 'model_rate_limited'],
    [408, 'retryable', 'model_timeout'],
    [409, 'retryable', 'model_unavailable'],
    [500, 'retryable', 'model_unavailable'],
    [502, 'retryable', 'model_unavailable'],
    [400, 'permanent', 'model_rejected'],
    [401, 'permanent', 'model_rejected'],
    [403, 'permanent', 'model_rejected'],
    [404, 'permanent', 'model_rejected'],
  ])('maps HTTP %i to %s', (code, kind, engineCode) => {
    expect(sut(status(code))).toMatchObject({ kind, code: engineCode, status: code });
  });

  it('treats an exhausted quota as permanent although it is a 429', () => {
    expect(sut(status(429, { code: 'insufficient_quota' }))).toMatchObject({ kind: 'permanent' });
  });

  it('maps network errors and timeouts to retryable', () => {
    expect(sut(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toMatchObject({
      kind: 'retryable',
      code: 'network',
    });
    expect(sut(Object.assign(new Error('x'), { cause: { code: 'UND_ERR_SOCKET' } }))).toMatchObject({
      kind: 'retryable',
      code: 'network',
    });
    expect(
      sut(Object.assign(new Error('Request timed out.'), { name: 'APIConnectionTimeoutError' })),
    ).toMatchObject({
      kind: 'retryable',
      code: 'model_timeout',
    });
  });

  it('keeps an EngineError and treats anything unrecognised as permanent', () => {
    const engineError = EngineError.cancelled();
    expect(sut(engineError)).toBe(engineError);
    expect(sut(new TypeError('x is undefined'), 'agent "a"')).toMatchObject({
      kind: 'permanent',
      code: 'unknown',
      message: 'agent "a" failed: x is undefined',
    });
  });
});
