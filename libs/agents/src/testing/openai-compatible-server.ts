import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server speaking the OpenAI Chat Completions protocol, for tests and benchmarks.
 *
 *   const server = await startOpenAiCompatibleServer();
 *   server.script({ content: 'hello' }, { status: 429, headers: { 'retry-after': '1' } });
 *   new ChatOpenAI({ configuration: { baseURL: server.baseURL }, ... });
 *   ...
 *   await server.close();
 *
 * Each completion request takes the next scripted reply; when the script is empty the handler set with
 * `setHandler` decides; without one, the server echoes the last user message. Every request is recorded, and
 * what the client sends is checked against the protocol: a malformed request gets a 400 with an OpenAI-style
 * error body, as the real API would answer.
 */

export interface ScriptedToolCall {
  name: string;
  /** Serialised as JSON when an object. */
  arguments: string | Record<string, unknown>;
  id?: string;
}

export interface CompletionReply {
  content?: string;
  toolCalls?: ScriptedToolCall[];
  /** Defaults: estimated from the text (about 4 characters a token). */
  usage?: { promptTokens?: number; completionTokens?: number };
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /** Wait this long before the response headers (on top of the server's `latencyMs`), e.g. to provoke a timeout. */
  delayMs?: number;
  /** Streaming: wait this long between chunks. */
  chunkDelayMs?: number;
  /** Streaming: stop sending after this many chunks and keep the connection open (a stalled provider). */
  stallAfterChunks?: number;
}

export interface ErrorReply {
  status: number;
  headers?: Record<string, string>;
  message?: string;
  type?: string;
  code?: string | null;
  param?: string | null;
  delayMs?: number;
}

export type ScriptedReply = CompletionReply | ErrorReply;

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-cased names, as node:http gives them; `authorization` is kept for assertions. */
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body; undefined when there was none or it was not JSON. */
  body: unknown;
  receivedAt: number;
}

export interface ChatCompletionRequestBody {
  model: string;
  messages: Array<{
    role: string;
    content?: unknown;
    tool_calls?: unknown[];
    tool_call_id?: string;
    name?: string;
  }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters?: object } }>;
  [key: string]: unknown;
}

export type ReplyHandler = (
  body: ChatCompletionRequestBody,
  request: RecordedRequest,
) => ScriptedReply | Promise<ScriptedReply>;

export interface OpenAiCompatibleServerOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`, else 401 (whose message echoes the key sent, as
   * some compatible servers do, so that tests can check the client redacts it). */
  apiKey?: string;
  /** When set, other models get a 404 `model_not_found`. Listed by GET /v1/models. */
  models?: string[];
  /** Added before every completion's response headers (benchmarks). */
  latencyMs?: number;
}

export interface OpenAiCompatibleServer {
  /** e.g. http://127.0.0.1:41234/v1 (what ChatOpenAI's configuration.baseURL expects). */
  readonly baseURL: string;
  /** Every request received, in order. */
  readonly requests: readonly RecordedRequest[];
  /** Only POST /v1/chat/completions requests. */
  readonly completionRequests: readonly RecordedRequest[];
  /** Scripted replies not consumed yet. */
  readonly pendingReplies: number;
  /** Completion requests being answered now, and the most seen at once. */
  readonly stats: { inFlight: number; maxInFlight: number; completions: number };
  /** Queue replies for the next completion requests. */
  script(...replies: ScriptedReply[]): void;
  /** Decides replies once the script is empty; `undefined` restores the echo. */
  setHandler(handler: ReplyHandler | undefined): void;
  setLatency(latencyMs: number): void;
  /** Forgets requests, script, handler and stats. */
  reset(): void;
  close(): Promise<void>;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_BODY_BYTES = 20 * 1024 * 1024;

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = 'invalid_request_error',
  ) {
    super(message);
  }
}

export async function startOpenAiCompatibleServer(
  options: OpenAiCompatibleServerOptions = {},
): Promise<OpenAiCompatibleServer> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  let handler: ReplyHandler | undefined;
  let latencyMs = options.latencyMs ?? 0;
  const stats = { inFlight: 0, maxInFlight: 0, completions: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let sequence = 0;

  const sleep = (ms: number, res: ServerResponse) =>
    new Promise<boolean>((resolve) => {
      if (ms <= 0) return resolve(!res.destroyed);
      const timer = setTimeout(() => {
        timers.delete(timer);
        res.off('close', onClose);
        resolve(!res.destroyed);
      }, ms);
      const onClose = () => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve(false);
      };
      timers.add(timer);
      res.once('close', onClose);
    });

  const nextReply = async (
    body: ChatCompletionRequestBody,
    recorded: RecordedRequest,
  ): Promise<ScriptedReply> => {
    const scripted = queue.shift();
    if (scripted) return scripted;
    if (handler) return handler(body, recorded);
    return { content: `echo: ${lastUserText(body)}` };
  };

  const completions = async (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => {
    checkAuthorization(req, options.apiKey);
    const body = validateChatCompletion(recorded.body);
    if (options.models && !options.models.includes(body.model)) {
      throw new RequestError(
        404,
        `The model \`${body.model}\` does not exist or you do not have access to it.`,
        null,
        'model_not_found',
      );
    }
    const reply = await nextReply(body, recorded);
    if (!(await sleep(latencyMs + (reply.delayMs ?? 0), res))) return;
    if ('status' in reply) {
      sendError(
        res,
        reply.status,
        {
          message: reply.message ?? `Scripted error ${reply.status}`,
          type: reply.type ?? (reply.status >= 500 ? 'server_error' : 'invalid_request_error'),
          param: reply.param ?? null,
          code: reply.code ?? null,
        },
        reply.headers,
      );
      return;
    }
    const completion = buildCompletion(
      body,
      reply,
      `chatcmpl-${++sequence}${randomBytes(9).toString('hex')}`,
    );
    if (body.stream) await streamCompletion(res, body, reply, completion, sleep);
    else sendJson(res, 200, completion.response);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        headers: { ...req.headers },
        body: undefined,
        receivedAt: Date.now(),
      };
      requests.push(recorded);
      const isCompletion = path === '/v1/chat/completions';
      if (isCompletion) {
        stats.completions++;
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      }
      try {
        const raw = await readBody(req);
        if (raw.length > 0) {
          try {
            recorded.body = JSON.parse(raw.toString('utf8'));
          } catch {
            throw new RequestError(
              400,
              "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP " +
                'library correctly. The OpenAI API expects a JSON payload.)',
            );
          }
        }
        if (isCompletion) {
          if (req.method !== 'POST') throw new RequestError(405, `Method ${req.method} not allowed`);
          await completions(req, res, recorded);
        } else if (path === '/v1/models' && req.method === 'GET') {
          checkAuthorization(req, options.apiKey);
          const created = Math.floor(Date.now() / 1000);
          sendJson(res, 200, {
            object: 'list',
            data: (options.models ?? ['test-model']).map((id) => ({
              id,
              object: 'model',
              created,
              owned_by: 'docflow',
            })),
          });
        } else {
          throw new RequestError(404, `Invalid URL (${req.method} ${path})`, null, 'unknown_url');
        }
      } catch (error) {
        if (res.headersSent) {
          res.destroy();
        } else if (error instanceof RequestError) {
          sendError(res, error.status, {
            message: error.message,
            type: error.type,
            param: error.param,
            code: error.code,
          });
        } else {
          sendError(res, 500, {
            message: `Test server failure: ${error instanceof Error ? error.message : String(error)}`,
            type: 'server_error',
            param: null,
            code: null,
          });
        }
      } finally {
        if (isCompletion) stats.inFlight--;
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get completionRequests() {
      return requests.filter((r) => r.path === '/v1/chat/completions');
    },
    get pendingReplies() {
      return queue.length;
    },
    stats,
    script: (...replies) => void queue.push(...replies),
    setHandler: (next) => void (handler = next),
    setLatency: (ms) => void (latencyMs = ms),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
      handler = undefined;
      Object.assign(stats, { inFlight: 0, maxInFlight: 0, completions: 0 });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// --- protocol -------------------------------------------------------------------------------------------------

interface BuiltCompletion {
  id: string;
  created: number;
  content: string | null;
  toolCalls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  finishReason: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  response: object;
}

function buildCompletion(
  body: ChatCompletionRequestBody,
  reply: CompletionReply,
  id: string,
): BuiltCompletion {
  const offered = new Set((body.tools ?? []).map((tool) => tool.function.name));
  const toolCalls = (reply.toolCalls ?? []).map((call) => {
    if (!offered.has(call.name)) {
      throw new Error(
        `scripted tool call "${call.name}" but the request offers [${[...offered].join(', ')}]`,
      );
    }
    return {
      id: call.id ?? `call_${randomBytes(12).toString('hex')}`,
      type: 'function' as const,
      function: {
        name: call.name,
        arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
      },
    };
  });
  const content = reply.content ?? (toolCalls.length > 0 ? null : '');
  const completionText =
    (content ?? '') + toolCalls.map((call) => call.function.name + call.function.arguments).join('');
  const promptTokens = reply.usage?.promptTokens ?? estimateTokens(JSON.stringify(body.messages));
  const completionTokens = reply.usage?.completionTokens ?? estimateTokens(completionText);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
  const finishReason = reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop');
  const created = Math.floor(Date.now() / 1000);
  const response = {
    id,
    object: 'chat.completion',
    created,
    model: body.model,
    system_fingerprint: 'fp_docflow_test',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          refusal: null,
          ...(toolCalls.length > 0 && { tool_calls: toolCalls }),
        },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage: {
      ...usage,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    },
  };
  return { id, created, content, toolCalls, finishReason, usage, response };
}

async function streamCompletion(
  res: ServerResponse,
  body: ChatCompletionRequestBody,
  reply: CompletionReply,
  completion: BuiltCompletion,
  sleep: (ms: number, res: ServerResponse) => Promise<boolean>,
): Promise<void> {
  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (choices: object[], extra: object = {}) => ({
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: body.model,
    system_fingerprint: 'fp_docflow_test',
    choices,
    ...(includeUsage && { usage: null }),
    ...extra,
  });
  const delta = (value: object, finishReason: string | null = null) => ({
    index: 0,
    delta: value,
    logprobs: null,
    finish_reason: finishReason,
  });

  const events: object[] = [chunk([delta({ role: 'assistant', content: '', refusal: null })])];
  for (const piece of (completion.content ?? '').match(/\S+\s*|\s+/g) ?? []) {
    events.push(chunk([delta({ content: piece })]));
  }
  completion.toolCalls.forEach((call, index) => {
    events.push(
      chunk([
        delta({
          tool_calls: [
            { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
          ],
        }),
      ]),
    );
    for (const piece of splitEvery(call.function.arguments, 8)) {
      events.push(chunk([delta({ tool_calls: [{ index, function: { arguments: piece } }] })]));
    }
  });
  events.push(chunk([delta({}, completion.finishReason)]));
  if (includeUsage) events.push(chunk([], { usage: completion.usage }));

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  for (const [index, event] of events.entries()) {
    if (reply.stallAfterChunks !== undefined && index >= reply.stallAfterChunks) return; // never ends
    if (index > 0 && !(await sleep(reply.chunkDelayMs ?? 0, res))) return;
    res.write(`data: ${JSON.stringify(event)}\n\n`);
  }
  res.end('data: [DONE]\n\n');
}

function validateChatCompletion(body: unknown): ChatCompletionRequestBody {
  if (!isRecord(body)) throw new RequestError(400, 'The request body must be a JSON object.');
  if (typeof body['model'] !== 'string' || body['model'] === '') {
    throw new RequestError(400, 'you must provide a model parameter', 'model', 'missing_required_parameter');
  }
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new RequestError(
      400,
      "Missing required parameter: 'messages'.",
      'messages',
      'missing_required_parameter',
    );
  }
  messages.forEach((message: unknown, i) => validateMessage(message, `messages[${i}]`));
  if (body['stream'] !== undefined && typeof body['stream'] !== 'boolean') {
    throw new RequestError(400, `Invalid type for 'stream': expected a boolean.`, 'stream', 'invalid_type');
  }
  if (body['stream_options'] !== undefined && body['stream_options'] !== null) {
    if (body['stream'] !== true) {
      throw new RequestError(
        400,
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        'stream_options',
        'invalid_value',
      );
    }
    if (!isRecord(body['stream_options'])) {
      throw new RequestError(400, `Invalid type for 'stream_options'.`, 'stream_options', 'invalid_type');
    }
  }
  const temperature = body['temperature'];
  if (
    temperature !== undefined &&
    temperature !== null &&
    (typeof temperature !== 'number' || temperature < 0 || temperature > 2)
  ) {
    throw new RequestError(
      400,
      `Invalid 'temperature': expected a number between 0 and 2.`,
      'temperature',
      'invalid_value',
    );
  }
  if (body['tools'] !== undefined) {
    const tools = body['tools'];
    if (!Array.isArray(tools))
      throw new RequestError(400, `Invalid type for 'tools': expected an array.`, 'tools', 'invalid_type');
    tools.forEach((tool: unknown, i) => {
      const param = `tools[${i}]`;
      if (!isRecord(tool) || tool['type'] !== 'function' || !isRecord(tool['function'])) {
        throw new RequestError(
          400,
          `Invalid '${param}': expected {type: 'function', function: {...}}.`,
          param,
          'invalid_value',
        );
      }
      const fn = tool['function'];
      if (typeof fn['name'] !== 'string' || !TOOL_NAME.test(fn['name'])) {
        throw new RequestError(
          400,
          `Invalid '${param}.function.name': string does not match pattern ^[a-zA-Z0-9_-]{1,64}$.`,
          `${param}.function.name`,
          'invalid_value',
        );
      }
      if (fn['description'] !== undefined && typeof fn['description'] !== 'string') {
        throw new RequestError(
          400,
          `Invalid type for '${param}.function.description'.`,
          `${param}.function.description`,
          'invalid_type',
        );
      }
      const parameters = fn['parameters'];
      if (
        parameters !== undefined &&
        (!isRecord(parameters) || (parameters['type'] !== undefined && parameters['type'] !== 'object'))
      ) {
        throw new RequestError(
          400,
          `Invalid schema for function '${fn['name']}': schema must be a JSON Schema of 'type: "object"'.`,
          `${param}.function.parameters`,
          'invalid_function_parameters',
        );
      }
    });
  } else if (body['tool_choice'] !== undefined && body['tool_choice'] !== null) {
    throw new RequestError(
      400,
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      'tool_choice',
    );
  }
  return body as ChatCompletionRequestBody;
}

function validateMessage(message: unknown, param: string): void {
  if (!isRecord(message))
    throw new RequestError(400, `Invalid type for '${param}': expected an object.`, param, 'invalid_type');
  const role = message['role'];
  if (typeof role !== 'string' || !ROLES.has(role)) {
    throw new RequestError(
      400,
      `Invalid value for '${param}.role': '${String(role)}'.`,
      `${param}.role`,
      'invalid_value',
    );
  }
  const content = message['content'];
  const toolCalls = message['tool_calls'];
  const hasToolCalls = role === 'assistant' && Array.isArray(toolCalls) && toolCalls.length > 0;
  const contentOk =
    typeof content === 'string' ||
    (Array.isArray(content) && content.every((part) => isRecord(part) && typeof part['type'] === 'string')) ||
    ((content === null || content === undefined) && hasToolCalls);
  if (!contentOk) {
    throw new RequestError(
      400,
      `Invalid value for '${param}.content': expected a string or an array of content parts.`,
      `${param}.content`,
      'invalid_value',
    );
  }
  if (role === 'tool' && typeof message['tool_call_id'] !== 'string') {
    throw new RequestError(
      400,
      `Missing required parameter: '${param}.tool_call_id'.`,
      `${param}.tool_call_id`,
      'missing_required_parameter',
    );
  }
  if (toolCalls !== undefined) {
    if (role !== 'assistant' || !Array.isArray(toolCalls)) {
      throw new RequestError(400, `Invalid '${param}.tool_calls'.`, `${param}.tool_calls`, 'invalid_value');
    }
    toolCalls.forEach((call: unknown, i) => {
      const fn = isRecord(call) ? call['function'] : undefined;
      if (
        !isRecord(call) ||
        typeof call['id'] !== 'string' ||
        call['type'] !== 'function' ||
        !isRecord(fn) ||
        typeof fn['name'] !== 'string' ||
        typeof fn['arguments'] !== 'string'
      ) {
        throw new RequestError(
          400,
          `Invalid '${param}.tool_calls[${i}]': expected {id, type: 'function', function: {name, arguments: string}}.`,
          `${param}.tool_calls[${i}]`,
          'invalid_value',
        );
      }
    });
  }
}

function checkAuthorization(req: IncomingMessage, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  const header = req.headers.authorization ?? '';
  const sent = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  if (sent !== apiKey) {
    // Deliberately echoes the key sent, like some compatible servers do: clients must redact it.
    throw new RequestError(401, `Incorrect API key provided: ${sent || '(none)'}.`, null, 'invalid_api_key');
  }
}

// --- HTTP helpers ---------------------------------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RequestError(413, 'Request body too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function sendError(
  res: ServerResponse,
  status: number,
  error: { message: string; type: string; param: string | null; code: string | null },
  headers?: Record<string, string>,
): void {
  sendJson(res, status, { error }, headers);
}

function lastUserText(body: ChatCompletionRequestBody): string {
  const last = [...body.messages].reverse().find((message) => message.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  if (Array.isArray(last.content)) {
    return last.content
      .map((part: unknown) => (isRecord(part) && typeof part['text'] === 'string' ? part['text'] : ''))
      .join('');
  }
  return '';
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function splitEvery(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces.length > 0 ? pieces : [''];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
