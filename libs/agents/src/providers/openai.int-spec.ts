import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, AIMessageChunk, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { inspect } from 'node:util';
import { z } from 'zod';
import {
  startOpenAiCompatibleServer,
  type OpenAiCompatibleServer,
} from '../testing/openai-compatible-server';
import { classifyProviderError, createOpenAiChatModel, type OpenAiConnection } from './openai';

// Retries back off for 1-2 s, then 2-4 s. (The integration project's testTimeout does not reach per-file runs.)
jest.setTimeout(20_000);

const API_KEY = 'sk-docflow-int-secret-7f3a9c1e5b';
const MODEL = 'docflow-test-model';

describe('createOpenAiChatModel against an OpenAI-compatible server', () => {
  let server: OpenAiCompatibleServer;

  beforeAll(async () => {
    server = await startOpenAiCompatibleServer({ apiKey: API_KEY, models: [MODEL] });
  });

  afterEach(() => {
    expect(server.pendingReplies).toBe(0);
    server.reset();
  });

  afterAll(async () => {
    await server.close();
  });

  function model(connection: OpenAiConnection = {}, temperature?: number): BaseChatModel {
    return createOpenAiChatModel(
      { provider: 'vllm', model: MODEL, temperature },
      { apiKey: API_KEY, baseURL: server.baseURL, timeoutMs: 5_000, maxRetries: 2, ...connection },
    );
  }

  async function failure(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    throw new Error('expected the call to fail');
  }

  it('returns the completion with usage_metadata and sends a well-formed request', async () => {
    server.script({ content: 'Hello there', usage: { promptTokens: 11, completionTokens: 7 } });
    const sut = model({}, 0.3);

    const reply = await sut.invoke([new HumanMessage('Say hello')]);

    expect(reply.content).toBe('Hello there');
    expect(reply.usage_metadata).toMatchObject({ input_tokens: 11, output_tokens: 7, total_tokens: 18 });
    expect(server.completionRequests).toHaveLength(1);
    const [request] = server.completionRequests;
    expect(request.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(request.body).toMatchObject({
      model: MODEL,
      temperature: 0.3,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect((request.body as { stream?: boolean }).stream).toBe(false);
  });

  it('streams the completion and reports usage from the final chunk', async () => {
    server.script({ content: 'one two three four', usage: { promptTokens: 5, completionTokens: 4 } });
    const sut = model();

    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await sut.stream('Count to four')) chunks.push(chunk);
    const whole = chunks.reduce((acc, chunk) => acc.concat(chunk));

    expect(chunks.length).toBeGreaterThan(4);
    expect(whole.content).toBe('one two three four');
    expect(whole.usage_metadata).toMatchObject({ input_tokens: 5, output_tokens: 4, total_tokens: 9 });
    expect(server.completionRequests[0].body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  describe('tool calls', () => {
    const lookup = tool(async ({ city }: { city: string }) => `It is sunny in ${city}`, {
      name: 'get_weather',
      description: 'Current weather in a city',
      schema: z.object({ city: z.string().describe('City name') }),
    });

    it('round-trips a tool call and its result', async () => {
      server.script(
        { toolCalls: [{ id: 'call_abc123', name: 'get_weather', arguments: { city: 'Paris' } }] },
        { content: 'Sunny in Paris.' },
      );
      const sut = model().bindTools!([lookup]);

      const first = (await sut.invoke([new HumanMessage('Weather in Paris?')])) as AIMessage;
      expect(first.tool_calls).toEqual([
        { id: 'call_abc123', name: 'get_weather', args: { city: 'Paris' }, type: 'tool_call' },
      ]);
      expect(first.response_metadata['finish_reason']).toBe('tool_calls');
      const result = await lookup.invoke(first.tool_calls![0]);
      const second = await sut.invoke([new HumanMessage('Weather in Paris?'), first, result]);

      expect(result).toBeInstanceOf(ToolMessage);
      expect(second.content).toBe('Sunny in Paris.');
      const [offer, answer] = server.completionRequests.map((r) => r.body as Record<string, unknown>);
      expect(offer['tools']).toEqual([
        {
          type: 'function',
          function: expect.objectContaining({
            name: 'get_weather',
            description: 'Current weather in a city',
            parameters: expect.objectContaining({ type: 'object', required: ['city'] }),
          }),
        },
      ]);
      expect(answer['messages']).toEqual([
        { role: 'user', content: 'Weather in Paris?' },
        expect.objectContaining({
          role: 'assistant',
          tool_calls: [
            {
              id: 'call_abc123',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        }),
        { role: 'tool', tool_call_id: 'call_abc123', name: 'get_weather', content: 'It is sunny in Paris' },
      ]);
    });

    it('assembles streamed tool call deltas', async () => {
      server.script({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Reykjavik' } }] });
      const sut = model().bindTools!([lookup]);

      let whole: AIMessageChunk | undefined;
      for await (const chunk of await sut.stream('Weather in Reykjavik?'))
        whole = whole ? whole.concat(chunk) : chunk;

      expect(whole?.tool_calls).toEqual([
        expect.objectContaining({
          name: 'get_weather',
          args: { city: 'Reykjavik' },
          id: expect.stringMatching(/^call_/),
        }),
      ]);
      expect(whole?.usage_metadata?.output_tokens).toBeGreaterThan(0);
    });
  });

  it('gives every completion its own id', async () => {
    const sut = model();

    const a = await sut.invoke('first');
    const b = await sut.invoke('second');

    expect(a.content).toBe('echo: first');
    expect(a.id).toMatch(/^chatcmpl-/);
    expect(b.id).toMatch(/^chatcmpl-/);
    expect(a.id).not.toBe(b.id);
  });

  it('waits for Retry-After on a 429, then succeeds, with one retry layer', async () => {
    server.script(
      { status: 429, headers: { 'retry-after': '1' }, message: 'Rate limit reached' },
      { content: 'ok' },
    );
    const sut = model({ maxRetries: 3 });
    const started = Date.now();

    const reply = await sut.invoke('hi');

    expect(reply.content).toBe('ok');
    expect(server.completionRequests).toHaveLength(2);
    const [first, second] = server.completionRequests;
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up after maxRetries on repeated 500s, retryable', async () => {
    server.script(...Array.from({ length: 3 }, () => ({ status: 500, message: 'The server had an error' })));
    const sut = model({ maxRetries: 2 });

    const error = await failure(sut.invoke('hi'));

    expect(classifyProviderError(error)).toMatchObject({ kind: 'retryable', status: 500 });
    expect(server.completionRequests).toHaveLength(3);
  });

  it('retries a 429 that gives no Retry-After, with backoff', async () => {
    server.script({ status: 429, message: 'Rate limit reached' }, { content: 'ok' });
    const sut = model({ maxRetries: 1 });

    const reply = await sut.invoke('hi');

    expect(reply.content).toBe('ok');
    const [first, second] = server.completionRequests;
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('does not retry a 422', async () => {
    server.script({ status: 422, message: 'Unprocessable' });
    const sut = model({ maxRetries: 3 });

    const error = await failure(sut.invoke('hi'));

    expect(classifyProviderError(error)).toMatchObject({ kind: 'permanent', status: 422 });
    expect(server.completionRequests).toHaveLength(1);
  });

  it('fails at once, retryable, when Retry-After is longer than worth waiting in process', async () => {
    server.script({ status: 429, headers: { 'retry-after': '120' } });
    const sut = model({ maxRetries: 3 });

    const error = await failure(sut.invoke('hi'));

    expect(classifyProviderError(error)).toMatchObject({
      kind: 'retryable',
      status: 429,
      retryAfterMs: 120_000,
    });
    expect(server.completionRequests).toHaveLength(1);
  });

  it('times out each attempt after timeoutMs, retries once, and fails retryable within a bounded time', async () => {
    server.script({ content: 'late', delayMs: 10_000 }, { content: 'late', delayMs: 10_000 });
    const sut = model({ timeoutMs: 300, maxRetries: 1 });
    const started = Date.now();

    const error = await failure(sut.invoke('hi'));
    const elapsed = Date.now() - started;

    expect(classifyProviderError(error).kind).toBe('retryable');
    expect(server.completionRequests).toHaveLength(2);
    // Two attempts of 300 ms and one backoff of 1-2 s.
    expect(elapsed).toBeGreaterThanOrEqual(600);
    expect(elapsed).toBeLessThan(4_000);
  });

  it('fails a stream that goes silent for longer than timeoutMs', async () => {
    server.script({ content: 'a b c d e f', stallAfterChunks: 2 });
    const sut = model({ timeoutMs: 400, maxRetries: 0 });
    const started = Date.now();
    const received: string[] = [];

    const error = await failure(
      (async () => {
        for await (const chunk of await sut.stream('hi')) received.push(String(chunk.content));
      })(),
    );

    expect(classifyProviderError(error).kind).toBe('retryable');
    expect(received.join('')).toBe('a ');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not retry a 401 and keeps the key out of the error', async () => {
    const wrongKey = 'sk-user-typo-key-9d8e7f6a5b4c';
    const sut = createOpenAiChatModel(
      { provider: 'vllm', model: MODEL },
      { apiKey: wrongKey, baseURL: server.baseURL, maxRetries: 3 },
    );

    const error = await failure(sut.invoke('hi'));

    expect(classifyProviderError(error)).toMatchObject({ kind: 'permanent', status: 401 });
    expect(server.completionRequests).toHaveLength(1);
    expect(server.completionRequests[0].headers['authorization']).toBe(`Bearer ${wrongKey}`);
    // The server echoed the key in its message; the client redacted it.
    expect((error as Error).message).toContain('Incorrect API key provided: [REDACTED]');
    expect((error as Error).message).not.toContain(wrongKey);
    expect(JSON.stringify(error)).not.toContain(wrongKey);
    expect(inspect(error, { depth: 10 })).not.toContain(wrongKey);
    expect(classifyProviderError(error).message).not.toContain(wrongKey);
  });

  it('does not retry a 404 for an unknown model', async () => {
    const sut = createOpenAiChatModel(
      { provider: 'vllm', model: 'no-such-model' },
      { apiKey: API_KEY, baseURL: server.baseURL, maxRetries: 3 },
    );

    const error = await failure(sut.invoke('hi'));

    expect(classifyProviderError(error)).toMatchObject({ kind: 'permanent', status: 404 });
    expect(server.completionRequests).toHaveLength(1);
  });

  it('bounds concurrent requests, shared with models derived by bindTools', async () => {
    server.setLatency(150);
    const base = model({ maxConcurrency: 2 });
    const bound = base.bindTools!([
      tool(async () => 'x', { name: 'noop', description: 'does nothing', schema: z.object({}) }),
    ]);

    const replies = await Promise.all([
      ...Array.from({ length: 3 }, (_, i) => base.invoke(`base ${i}`)),
      ...Array.from({ length: 3 }, (_, i) => bound.invoke(`bound ${i}`)),
    ]);

    expect(replies.map((r) => r.content)).toEqual([
      'echo: base 0',
      'echo: base 1',
      'echo: base 2',
      'echo: bound 0',
      'echo: bound 1',
      'echo: bound 2',
    ]);
    expect(server.stats.completions).toBe(6);
    expect(server.stats.maxInFlight).toBe(2);
  });
});

describe('startOpenAiCompatibleServer', () => {
  let server: OpenAiCompatibleServer;

  beforeAll(async () => {
    server = await startOpenAiCompatibleServer({ models: ['m1', 'm2'] });
  });

  afterAll(async () => {
    await server.close();
  });

  async function post(body: unknown): Promise<{ status: number; json: { error?: Record<string, unknown> } }> {
    const response = await fetch(`${server.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as { error?: Record<string, unknown> } };
  }

  it('lists its models', async () => {
    const response = await fetch(`${server.baseURL}/models`);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      object: 'list',
      data: [
        { id: 'm1', object: 'model' },
        { id: 'm2', object: 'model' },
      ],
    });
  });

  it.each([
    ['a body that is not JSON', '{"model":', null],
    ['a missing model', { messages: [{ role: 'user', content: 'x' }] }, 'model'],
    ['no messages', { model: 'm1', messages: [] }, 'messages'],
    ['an unknown role', { model: 'm1', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    [
      'content of the wrong type',
      { model: 'm1', messages: [{ role: 'user', content: 42 }] },
      'messages[0].content',
    ],
    [
      'a tool message without tool_call_id',
      { model: 'm1', messages: [{ role: 'tool', content: 'x' }] },
      'messages[0].tool_call_id',
    ],
    [
      'a non-boolean stream',
      { model: 'm1', messages: [{ role: 'user', content: 'x' }], stream: 'yes' },
      'stream',
    ],
    [
      'stream_options without stream',
      { model: 'm1', messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: true } },
      'stream_options',
    ],
    [
      'a tool without a function',
      { model: 'm1', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function' }] },
      'tools[0]',
    ],
    [
      'a tool with a bad name',
      {
        model: 'm1',
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'a b' } }],
      },
      'tools[0].function.name',
    ],
  ])('answers 400 with an OpenAI error body to %s', async (_label, body, param) => {
    const { status, json } = await post(body);

    expect(status).toBe(400);
    expect(json.error).toEqual({
      message: expect.any(String),
      type: 'invalid_request_error',
      param,
      code: param === null ? null : expect.any(String),
    });
  });

  it('records requests with their parsed body', async () => {
    server.reset();

    const { status } = await post({ model: 'm2', messages: [{ role: 'user', content: 'x' }] });

    expect(status).toBe(200);
    expect(server.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/chat/completions',
        body: { model: 'm2', messages: [{ role: 'user', content: 'x' }] },
      }),
    ]);
  });

  it('lets a handler decide replies once the script is empty', async () => {
    server.setHandler((body) => ({ content: `model was ${body.model}` }));
    server.script({ content: 'scripted first' });

    const first = await post({ model: 'm1', messages: [{ role: 'user', content: 'x' }] });
    const second = await post({ model: 'm1', messages: [{ role: 'user', content: 'x' }] });

    expect(first.json).toMatchObject({ choices: [{ message: { content: 'scripted first' } }] });
    expect(second.json).toMatchObject({ choices: [{ message: { content: 'model was m1' } }] });
    server.setHandler(undefined);
  });
});
