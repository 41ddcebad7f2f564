import { ChatOpenAI } from '@langchain/openai';
import { inspect } from 'node:util';
import {
  classifyProviderError,
  createOpenAiChatModel,
  DEFAULT_TIMEOUT_MS,
  ProviderTimeoutError,
  redactSecret,
} from './openai';

/** Shaped like the openai SDK's APIError: status, response headers, JSON body. */
function apiError(
  status: number,
  headers: Record<string, string> = {},
  body: object = {},
  message = `${status} error`,
) {
  return Object.assign(new Error(message), { status, headers: new Headers(headers), error: body });
}

function named(name: string, message: string, extra: object = {}): Error {
  const error = Object.assign(new Error(message), extra);
  error.name = name;
  return error;
}

class APIConnectionError extends Error {}
class APIConnectionTimeoutError extends APIConnectionError {}

describe(classifyProviderError.name, () => {
  it.each([
    ['429 rate limit', apiError(429), 'retryable', 429],
    ['500', apiError(500), 'retryable', 500],
    ['502', apiError(502), 'retryable', 502],
    ['503', apiError(503), 'retryable', 503],
    ['504', apiError(504), 'retryable', 504],
    ['408', apiError(408), 'retryable', 408],
    ['409', apiError(409), 'retryable', 409],
    ['400', apiError(400), 'permanent', 400],
    ['401', apiError(401), 'permanent', 401],
    ['403', apiError(403), 'permanent', 403],
    ['404', apiError(404), 'permanent', 404],
    ['413', apiError(413), 'permanent', 413],
    ['422', apiError(422), 'permanent', 422],
    ['429 insufficient_quota', apiError(429, {}, { code: 'insufficient_quota' }), 'permanent', 429],
    ['status on response', { message: 'x', response: { status: 503 } }, 'retryable', 503],
    ['statusCode', { message: 'x', statusCode: 401 }, 'permanent', 401],
  ])('classifies %s', (_label, error, kind, status) => {
    const sut = classifyProviderError(error);

    expect(sut.kind).toBe(kind);
    expect(sut.status).toBe(status);
  });

  it.each([
    ['SDK connection error', new APIConnectionError('Connection error.')],
    ['SDK timeout', new APIConnectionTimeoutError('Request timed out.')],
    ['LangChain-wrapped timeout', named('TimeoutError', 'Request timed out.')],
    ['idle timeout in the body', new ProviderTimeoutError(100)],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['fetch failed with a cause', new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } })],
    ['AbortSignal.timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
  ])('classifies %s as retryable without a status', (_label, error) => {
    const sut = classifyProviderError(error);

    expect(sut).toEqual({ kind: 'retryable', message: (error as Error).message });
  });

  it.each([
    ['a cancelled call', named('AbortError', 'Aborted')],
    ['a programming error', new TypeError('Cannot read properties of undefined')],
    ['a string', 'boom'],
    ['undefined', undefined],
  ])('classifies %s as permanent', (_label, error) => {
    expect(classifyProviderError(error).kind).toBe('permanent');
  });

  it('reads Retry-After in seconds', () => {
    expect(classifyProviderError(apiError(429, { 'retry-after': '2' })).retryAfterMs).toBe(2000);
  });

  it('prefers retry-after-ms', () => {
    const error = apiError(429, { 'retry-after-ms': '250', 'retry-after': '9' });

    expect(classifyProviderError(error).retryAfterMs).toBe(250);
  });

  it('reads Retry-After as an HTTP date', () => {
    const at = new Date(Date.now() + 30_000).toUTCString();

    const sut = classifyProviderError(apiError(503, { 'Retry-After': at }));

    expect(sut.retryAfterMs).toBeGreaterThan(28_000);
    expect(sut.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('reads Retry-After from plain header records', () => {
    const error = { status: 429, message: 'slow down', headers: { 'Retry-After': '3' } };

    expect(classifyProviderError(error)).toEqual({
      kind: 'retryable',
      status: 429,
      message: 'slow down',
      retryAfterMs: 3000,
    });
  });

  it('ignores a malformed Retry-After', () => {
    expect(classifyProviderError(apiError(429, { 'retry-after': 'soon' })).retryAfterMs).toBeUndefined();
  });
});

describe(redactSecret.name, () => {
  const key = 'sk-test-0123456789abcdef';

  it('removes the key from the message, stack, body and cause, keeping the error object', () => {
    const cause = new Error(`upstream said ${key}`);
    const error = Object.assign(new Error(`Incorrect API key provided: ${key}.`, { cause }), {
      status: 401,
      error: { message: `Incorrect API key provided: ${key}.`, nested: [{ detail: `Bearer ${key}` }] },
    });

    const sut = redactSecret(error, key);

    expect(sut).toBe(error);
    expect(sut.message).toBe('Incorrect API key provided: [REDACTED].');
    expect(sut.status).toBe(401);
    expect(sut.stack).not.toContain(key);
    expect(JSON.stringify(sut)).not.toContain(key);
    expect(cause.message).toBe('upstream said [REDACTED]');
    expect(inspect(sut, { depth: 10 })).not.toContain(key);
  });

  it('survives cycles and leaves errors without the key alone', () => {
    const error: Error & { self?: unknown } = new Error('nothing secret');
    error.self = error;

    expect(redactSecret(error, key).message).toBe('nothing secret');
  });

  it('does nothing without a key', () => {
    const error = new Error('text');

    expect(redactSecret(error, undefined)).toBe(error);
    expect(error.message).toBe('text');
  });
});

describe(createOpenAiChatModel.name, () => {
  const key = 'sk-unit-secret-key-42';

  it('builds a ChatOpenAI with explicit timeout, retries and usage streaming', () => {
    const sut = createOpenAiChatModel(
      { provider: 'openai', model: 'gpt-4o-mini', temperature: 0.2 },
      { apiKey: key },
    );

    expect(sut).toBeInstanceOf(ChatOpenAI);
    const model = sut as ChatOpenAI;
    expect(model.model).toBe('gpt-4o-mini');
    expect(model.temperature).toBe(0.2);
    expect(model.timeout).toBe(DEFAULT_TIMEOUT_MS);
    expect(model.streamUsage).toBe(true);
    expect(model.clientConfig.baseURL).toBe('https://api.openai.com/v1');
    expect(model.clientConfig.maxRetries).toBeUndefined(); // the SDK must not retry on its own
  });

  it('does not put the key in the serialised model', () => {
    const sut = createOpenAiChatModel({ provider: 'openai', model: 'gpt-4o-mini' }, { apiKey: key });

    expect(JSON.stringify(sut)).not.toContain(key);
  });

  it('does not fall back to OPENAI_API_KEY from the environment', () => {
    const previous = process.env['OPENAI_API_KEY'];
    process.env['OPENAI_API_KEY'] = 'sk-platform-key-from-env';
    try {
      const sut = createOpenAiChatModel(
        { provider: 'ollama', model: 'llama3' },
        { baseURL: 'http://127.0.0.1:11434/v1' },
      ) as ChatOpenAI;

      expect(sut.clientConfig.apiKey).not.toBe('sk-platform-key-from-env');
    } finally {
      if (previous === undefined) delete process.env['OPENAI_API_KEY'];
      else process.env['OPENAI_API_KEY'] = previous;
    }
  });

  it.each([
    [{ provider: 'vllm', model: 'm' }, {}, /baseURL is required/],
    [{ provider: 'openai', model: '' }, {}, /model is required/],
    [{ provider: 'openai', model: 'm', temperature: 3 }, {}, /temperature/],
    [{ provider: 'openai', model: 'm' }, { timeoutMs: 0 }, /timeoutMs/],
    [{ provider: 'openai', model: 'm' }, { maxRetries: -1 }, /maxRetries/],
    [{ provider: 'openai', model: 'm' }, { maxConcurrency: 0.5 }, /maxConcurrency/],
  ])('rejects %j %j without naming the key', (spec, connection, expected) => {
    const build = () => createOpenAiChatModel(spec, { apiKey: key, ...connection });

    expect(build).toThrow(expected);
    expect(build).not.toThrow(new RegExp(key));
  });
});
