import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { ChatOpenAI, ChatOpenAICompletions, ChatOpenAIResponses } from '@langchain/openai';

/**
 * Chat models for OpenAI and every OpenAI-compatible endpoint (Azure OpenAI's v1 API, Ollama, vLLM, LiteLLM...),
 * built on LangChain's ChatOpenAI.
 *
 * Retries: exactly one layer retries. The openai SDK inside ChatOpenAI is always created with `maxRetries: 0`
 * (ChatOpenAI forces it), and LangChain's AsyncCaller does the retrying, driven by `classifyProviderError` below,
 * so what is retried in process is exactly what the worker would call retryable. A call makes at most
 * `maxRetries + 1` HTTP attempts. The backoff is AsyncCaller's (exponential from 1 s, doubling, randomised x1-2);
 * a `Retry-After` / `retry-after-ms` hint lengthens the wait to at least the hinted time. A hint longer than
 * `MAX_IN_PROCESS_RETRY_AFTER_MS` is not slept on: the call fails at once, classified retryable with
 * `retryAfterMs`, so the caller can reschedule the job instead of holding a worker.
 *
 * Timeout: `timeoutMs` is per attempt. It bounds the wait for the response headers (the SDK's own timeout) and
 * every silence in the response body afterwards (an idle timer here), so a provider that stalls mid-stream fails
 * the same way as one that never answers. A whole call is therefore bounded by roughly
 * `(maxRetries + 1) * timeoutMs + backoff` for a non-streaming call; callers that need a hard deadline on the whole
 * call pass `signal` (or LangChain's `timeout` call option) to `invoke`/`stream`.
 *
 * Concurrency: `maxConcurrency` bounds in-flight requests per model created here, shared by every model derived
 * from it with `bindTools`/`withConfig` (they share one AsyncCaller queue). A slot is held while a call waits for
 * its retry.
 *
 * Token accounting: non-streaming calls read `usage` from the response; streaming calls ask for
 * `stream_options: { include_usage: true }`; either way the resulting AIMessage carries `usage_metadata`.
 *
 * The API key lives only in this model object; it is redacted from every error the model throws.
 */

export interface OpenAiModelSpec {
  provider: string;
  model: string;
  temperature?: number;
}

export interface OpenAiConnection {
  /** The user's key; kept in memory, never logged. Optional for endpoints that need none (Ollama, vLLM). */
  apiKey?: string;
  /** Required for every provider except `openai`. */
  baseURL?: string;
  /** Per attempt: time to response headers and longest silence in the body. */
  timeoutMs?: number;
  /** Retries after the first attempt (so at most `maxRetries + 1` HTTP requests per call). */
  maxRetries?: number;
  /** In-flight requests at most, per model created here. */
  maxConcurrency?: number;
}

export type ProviderErrorKind = 'retryable' | 'permanent';

export interface ProviderErrorClassification {
  kind: ProviderErrorKind;
  status?: number;
  message: string;
  /** How long the provider asked to wait (Retry-After / retry-after-ms), when it said. */
  retryAfterMs?: number;
}

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_TIMEOUT_MS = 300_000;
export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_MAX_CONCURRENCY = 8;
export const MAX_IN_PROCESS_RETRY_AFTER_MS = 60_000;

/** Sent when the endpoint needs no key, so that neither ChatOpenAI nor the SDK falls back to OPENAI_API_KEY. */
const NO_API_KEY = 'no-key';
const REDACTED = '[REDACTED]';

/** Thrown (as the stream's error) when the provider is silent for longer than `timeoutMs` mid-response. */
export class ProviderTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`Provider sent nothing for ${timeoutMs} ms`);
  }
}

export function createOpenAiChatModel(spec: OpenAiModelSpec, connection: OpenAiConnection): BaseChatModel {
  const provider = spec.provider.trim().toLowerCase();
  if (!spec.model) throw new Error(`${spec.provider}: model is required`);
  if (provider !== 'openai' && !connection.baseURL) {
    // Without it the request (and the user's key) would go to api.openai.com.
    throw new Error(`${spec.provider}: baseURL is required for an OpenAI-compatible provider`);
  }
  if (spec.temperature !== undefined && !(spec.temperature >= 0 && spec.temperature <= 2)) {
    throw new Error(`${spec.provider}: temperature must be between 0 and 2`);
  }
  const timeoutMs = positiveInteger('timeoutMs', connection.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1);
  const maxRetries = positiveInteger('maxRetries', connection.maxRetries ?? DEFAULT_MAX_RETRIES, 0);
  const maxConcurrency = positiveInteger(
    'maxConcurrency',
    connection.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
    1,
  );
  const secret = connection.apiKey || undefined;

  const fields = {
    model: spec.model,
    temperature: spec.temperature,
    // Explicit key and baseURL: no fallback to OPENAI_API_KEY / OPENAI_BASE_URL / a LangSmith gateway from the env.
    apiKey: secret ?? NO_API_KEY,
    configuration: {
      baseURL: connection.baseURL ?? OPENAI_BASE_URL,
      fetch: fetchWithIdleTimeout(timeoutMs),
      // No maxRetries here: it would reach the SDK as a per-request option and add a second retry layer.
    },
    timeout: timeoutMs,
    maxRetries,
    maxConcurrency,
    onFailedAttempt: retryDecision,
    streamUsage: true,
    useResponsesApi: false,
  };
  // ChatOpenAI delegates to these two; passing them in makes bindTools()/withConfig() copies reuse them, and so
  // share their AsyncCaller (the concurrency bound) and the error redaction.
  const completions = new RedactingCompletions(fields, secret);
  const responses = new RedactingResponses(fields, secret);
  return new ChatOpenAI({ ...fields, completions, responses });
}

/**
 * Tells the engine/worker whether a failed model call may succeed if tried again later.
 * 429, 408, 409, 425, 5xx, network failures and timeouts are retryable; other 4xx (400, 401, 403, 404, 422...),
 * a 429 for an exhausted quota, a cancelled call and unknown errors are permanent.
 */
export function classifyProviderError(error: unknown): ProviderErrorClassification {
  const message = errorMessage(error);
  const status = statusOf(error);
  if (status !== undefined) {
    const retryAfterMs = retryAfterOf(error);
    const base = { status, message, ...(retryAfterMs !== undefined && { retryAfterMs }) };
    if (status === 429) {
      return { kind: isQuotaExhausted(error, message) ? 'permanent' : 'retryable', ...base };
    }
    if (status >= 500 || status === 408 || status === 409 || status === 425)
      return { kind: 'retryable', ...base };
    return { kind: 'permanent', ...base };
  }
  if (isTimeout(error)) return { kind: 'retryable', message };
  if (isAbort(error)) return { kind: 'permanent', message };
  if (isNetworkError(error)) return { kind: 'retryable', message };
  return { kind: 'permanent', message };
}

/**
 * Replaces every occurrence of `secret` in the strings held by an error (message, stack, the response body,
 * causes...), in place so the error keeps its class and fields. Returns the same value.
 */
export function redactSecret<T>(value: T, secret: string | undefined): T {
  if (!secret) return value;
  const seen = new WeakSet<object>();
  const visit = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return node.includes(secret) ? node.split(secret).join(REDACTED) : node;
    if (typeof node !== 'object' || node === null || depth > 8 || seen.has(node)) return node;
    if (!(node instanceof Error) && !Array.isArray(node) && !isPlainObject(node)) return node;
    seen.add(node);
    for (const key of Object.getOwnPropertyNames(node)) {
      const record = node as Record<string, unknown>;
      let current: unknown;
      try {
        current = record[key];
      } catch {
        continue;
      }
      const next = visit(current, depth + 1);
      if (next !== current) {
        try {
          record[key] = next;
        } catch {
          // A read-only field: leave it.
        }
      }
    }
    return node;
  };
  return visit(value, 0) as T;
}

// --- retries -------------------------------------------------------------------------------------------------

/** AsyncCaller's onFailedAttempt: throw to stop retrying, return to retry (after `retryAfterMs` at least). */
function retryDecision(error: unknown): void {
  const classification = classifyProviderError(error);
  if (classification.kind === 'permanent') throw error;
  const { retryAfterMs } = classification;
  if (retryAfterMs === undefined) return;
  if (retryAfterMs > MAX_IN_PROCESS_RETRY_AFTER_MS) throw error;
  if (typeof error === 'object' && error !== null)
    (error as { retryAfterMs?: number }).retryAfterMs = retryAfterMs;
}

function statusOf(error: unknown): number | undefined {
  if (!isObject(error)) return undefined;
  for (const candidate of [
    error['status'],
    error['statusCode'],
    isObject(error['response']) && error['response']['status'],
  ]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate <= 599) return candidate;
  }
  return undefined;
}

function retryAfterOf(error: unknown): number | undefined {
  if (!isObject(error)) return undefined;
  const headers =
    error['headers'] ?? (isObject(error['response']) ? error['response']['headers'] : undefined);
  const ms = parseRetryAfter(headerValue(headers, 'retry-after-ms'), 1);
  return ms ?? parseRetryAfter(headerValue(headers, 'retry-after'), 1000);
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!isObject(headers)) return undefined;
  if (typeof headers['get'] === 'function') {
    const value: unknown = (headers as unknown as Headers).get(name);
    return typeof value === 'string' ? value : undefined;
  }
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return typeof entry === 'string' ? entry : undefined;
}

/** A number of `unit` ms, or (for Retry-After) an HTTP date. */
function parseRetryAfter(value: string | undefined, unit: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const amount = Number(value);
  if (Number.isFinite(amount)) return amount >= 0 ? Math.round(amount * unit) : undefined;
  if (unit !== 1000) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function isQuotaExhausted(error: unknown, message: string): boolean {
  const body = isObject(error) ? error['error'] : undefined;
  const code = (isObject(error) && error['code']) || (isObject(body) && body['code']);
  return code === 'insufficient_quota' || /insufficient[_ ]quota|exceeded your current quota/i.test(message);
}

function isTimeout(error: unknown): boolean {
  if (!isObject(error)) return false;
  const name = error['name'];
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return (
    name === 'TimeoutError' ||
    ctor === 'APIConnectionTimeoutError' ||
    error['code'] === 'ETIMEDOUT' ||
    error['code'] === 'UND_ERR_HEADERS_TIMEOUT' ||
    error['code'] === 'UND_ERR_BODY_TIMEOUT'
  );
}

function isAbort(error: unknown): boolean {
  if (!isObject(error)) return false;
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return (
    error['name'] === 'AbortError' ||
    ctor === 'APIUserAbortError' ||
    /^(AbortError|Cancel)/.test(errorMessage(error))
  );
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function isNetworkError(error: unknown, depth = 0): boolean {
  if (!isObject(error) || depth > 4) return false;
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (ctor === 'APIConnectionError') return true;
  if (typeof error['code'] === 'string' && NETWORK_CODES.has(error['code'])) return true;
  if (error instanceof TypeError && /fetch failed|network|terminated/i.test(error.message)) return true;
  return isNetworkError(error['cause'], depth + 1);
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  if (isObject(error) && typeof error['message'] === 'string') return error['message'];
  return 'Unknown provider error';
}

// --- timeout inside the response body -------------------------------------------------------------------------

/** A fetch whose response body fails with ProviderTimeoutError after `idleMs` without a byte. */
function fetchWithIdleTimeout(idleMs: number): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body) return response;
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ProviderTimeoutError(idleMs)), idleMs);
        });
        try {
          const chunk = await Promise.race([reader.read(), idle]);
          if (chunk.done) controller.close();
          else controller.enqueue(chunk.value);
        } catch (error) {
          reader.cancel(error).catch(() => undefined);
          throw error;
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

// --- redaction of the key from whatever the model throws -------------------------------------------------------

type CompletionsFields = ConstructorParameters<typeof ChatOpenAICompletions>[0];

class RedactingCompletions extends ChatOpenAICompletions {
  constructor(
    fields: CompletionsFields,
    private readonly secret: string | undefined,
  ) {
    super(fields);
  }

  override async _generate(...args: Parameters<ChatOpenAICompletions['_generate']>) {
    try {
      return await super._generate(...args);
    } catch (error) {
      throw redactSecret(error, this.secret);
    }
  }

  override async *_streamResponseChunks(...args: Parameters<ChatOpenAICompletions['_streamResponseChunks']>) {
    try {
      yield* super._streamResponseChunks(...args);
    } catch (error) {
      throw redactSecret(error, this.secret);
    }
  }

  override async *_streamChatModelEvents(
    ...args: Parameters<ChatOpenAICompletions['_streamChatModelEvents']>
  ) {
    try {
      yield* super._streamChatModelEvents(...args);
    } catch (error) {
      throw redactSecret(error, this.secret);
    }
  }
}

class RedactingResponses extends ChatOpenAIResponses {
  constructor(
    fields: CompletionsFields,
    private readonly secret: string | undefined,
  ) {
    super(fields);
  }

  override async _generate(...args: Parameters<ChatOpenAIResponses['_generate']>) {
    try {
      return await super._generate(...args);
    } catch (error) {
      throw redactSecret(error, this.secret);
    }
  }

  override async *_streamResponseChunks(...args: Parameters<ChatOpenAIResponses['_streamResponseChunks']>) {
    try {
      yield* super._streamResponseChunks(...args);
    } catch (error) {
      throw redactSecret(error, this.secret);
    }
  }

  override async *_streamChatModelEvents(...args: Parameters<ChatOpenAIResponses['_streamChatModelEvents']>) {
    try {
      yield* super._streamChatModelEvents(...args);
    } catch (error) {
      throw redactSecret(error, this.secret);
    }
  }
}

// --- small helpers ---------------------------------------------------------------------------------------------

function positiveInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
