import { FakeListChatModel } from '@langchain/core/utils/testing';
import { validateCrew } from '../crew/parse-crew';
import type { CrewInput } from '../crew/crew.schema';
import { EngineError } from '../errors';
import { createModelFactory } from '../providers/model-factory';
import { estimatePromptTokens } from '../providers/offline';
import { fixedFactory, httpError, RecordingChatModel } from '../testing/fakes';
import { longDocument, REPORT } from '../testing/fixtures';
import { countTokens } from '../text/tokens';
import { runCrew, type ProgressEvent } from './run-crew';

const DOC = { name: 'report.md', text: REPORT };

function crew(overrides: Partial<CrewInput>): ReturnType<typeof validateCrew> {
  return validateCrew({
    name: 'test',
    defaults: { provider: 'fake', model: 'fake-model' },
    agents: [
      { id: 'researcher', role: 'Researcher for {{topic}}', goal: 'Find facts' },
      { id: 'writer', role: 'Writer', goal: 'Write', instructions: 'Be brief.' },
    ],
    params: { topic: { default: 'bridges' } },
    tasks: [
      { id: 'research', description: 'Research {{topic}}', expectedOutput: 'Facts', agent: 'researcher' },
      {
        id: 'write',
        description: 'Write it up',
        expectedOutput: 'Text',
        agent: 'writer',
        context: ['research'],
      },
    ],
    process: 'sequential',
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<EngineError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error('expected the run to fail');
}

describe(runCrew.name, () => {
  const sut = runCrew;

  describe('sequential', () => {
    it('runs the tasks in order, each with its context, and returns the last output', async () => {
      const model = new RecordingChatModel(['the facts', 'the text']);
      const result = await sut(
        { crew: crew({}), document: DOC, params: { topic: 'tunnels' } },
        { models: fixedFactory(model) },
      );

      expect(result.output).toBe('the text');
      expect(result.agentsRun).toEqual(['researcher', 'writer']);
      expect(result.models).toEqual(['fake:fake-model']);
      const [first, second] = model.parsedPrompts;
      expect(first).toMatchObject({
        kind: 'generic',
        headers: { 'Task-Id': 'research' },
        params: { topic: 'tunnels' },
      });
      expect(first.agent).toMatchObject({ agentId: 'researcher', role: 'Researcher for tunnels' });
      expect(first.sections['Task']).toBe('Research tunnels');
      expect(first.blocks.map((b) => b.type)).toEqual(['DOCUMENT']);
      expect(first.blocks[0].text).toBe(REPORT);
      expect(second.agent.instructions).toBe('Be brief.');
      expect(second.blocks.map((b) => [b.type, b.attrs['task'], b.text.slice(0, 9)])).toEqual([
        ['CONTEXT', 'research', 'the facts'],
        ['DOCUMENT', undefined, REPORT.slice(0, 9)],
      ]);
    });

    it('loops writer and critic until the critic approves', async () => {
      const model = new RecordingChatModel([
        'draft one',
        'Feedback:\n- say more',
        'draft two',
        '**APPROVED**',
      ]);
      const reviewCrew = crew({
        process: { type: 'sequential', review: { writer: 'research', critic: 'write' } },
        output: 'research',
      });
      const result = await sut({ crew: reviewCrew, document: DOC }, { models: fixedFactory(model) });

      expect(result.output).toBe('draft two');
      expect(result.calls).toBe(4);
      expect(result.notes).toContain('review: approved after 2 round(s)');
      const revision = model.parsedPrompts[2];
      expect(revision.headers['Round']).toBe('2');
      expect(revision.blocks.find((b) => b.type === 'PREVIOUS-DRAFT')?.text).toBe('draft one');
      expect(revision.blocks.find((b) => b.type === 'FEEDBACK')?.text).toBe('Feedback:\n- say more');
      expect(model.parsedPrompts[3].blocks.find((b) => b.type === 'CONTEXT')?.text).toBe('draft two');
    });

    it('stops the loop after maxRounds drafts without approval', async () => {
      const model = new RecordingChatModel(['draft', 'Feedback: no']);
      const reviewCrew = crew({
        process: { type: 'sequential', review: { writer: 'research', critic: 'write', maxRounds: 3 } },
        output: 'research',
      });
      const steps: string[] = [];
      const result = await sut(
        { crew: reviewCrew, document: DOC },
        { models: fixedFactory(model), onProgress: (e) => steps.push(e.step) },
      );

      expect(result.calls).toBe(6);
      expect(steps).toEqual(['research', 'write', 'research#2', 'write', 'research#3', 'write']);
      expect(result.notes[0]).toMatch(
        /^review: not approved after 3 round\(s\) \(maxRounds 3\); last feedback: Feedback: no/,
      );
    });
  });

  describe('hierarchical', () => {
    const hierarchical = () =>
      crew({
        agents: [
          { id: 'boss', role: 'Manager', goal: 'Plan' },
          { id: 'researcher', role: 'Researcher', goal: 'Find facts' },
          { id: 'writer', role: 'Writer', goal: 'Write' },
        ],
        tasks: [
          { id: 'research', description: 'Research', expectedOutput: 'Facts', agent: 'researcher' },
          {
            id: 'write',
            description: 'Write',
            expectedOutput: 'Text',
            agent: 'writer',
            context: ['research'],
          },
          { id: 'glossary', description: 'Glossary', expectedOutput: 'Terms', agent: 'researcher' },
        ],
        process: { type: 'hierarchical', manager: 'boss' },
        output: 'write',
      });

    it('lets the manager plan, then delegates in plan order, keeping context dependencies first', async () => {
      const model = new RecordingChatModel([], {
        answer: (prompt) =>
          prompt.kind === 'plan'
            ? 'Here is my plan:\nDelegate: glossary -> writer: keep it short\nDelegate: write -> researcher\nDelegate: unknown -> writer\nDelegate: research -> boss'
            : `${prompt.headers['Task-Id']} by ${prompt.agent.agentId}`,
      });
      const result = await sut({ crew: hierarchical(), document: DOC }, { models: fixedFactory(model) });

      const calls = model.parsedPrompts.map((p) => `${p.headers['Task-Id']}:${p.agent.agentId}`);
      expect(calls).toEqual(['plan:boss', 'glossary:writer', 'research:researcher', 'write:researcher']);
      expect(result.output).toBe('write by researcher');
      expect(result.agentsRun).toEqual(['boss', 'writer', 'researcher']);
      expect(model.parsedPrompts[1].sections['Task']).toBe("Glossary\n\nManager's note: keep it short");
      const planPrompt = model.parsedPrompts[0];
      expect(planPrompt.blocks.find((b) => b.type === 'AGENTS')?.text).toBe(
        '- researcher: Researcher. Find facts\n- writer: Writer. Write',
      );
      expect(planPrompt.blocks.find((b) => b.type === 'TASKS')?.text).toContain(
        '- write (agent: writer) [after: research]: Write',
      );
      expect(result.notes).toContain('plan: glossary -> writer, research -> researcher, write -> researcher');
    });

    it('runs with the offline manager, which delegates each task to its own agent', async () => {
      const result = await sut(
        { crew: hierarchical(), document: DOC },
        { models: createModelFactory({ offline: true }) },
      );
      expect(result.notes).toContain('plan: research -> researcher, write -> writer, glossary -> researcher');
      expect(result.agentsRun).toEqual(['boss', 'researcher', 'writer']);
      expect(result.models).toEqual(['offline:offline']);
      expect(result.output).toMatch(
        /^\[offline model: task kind "generic" cannot be done without a language model\]/,
      );
    });
  });

  describe('map-reduce', () => {
    const mapReduce = (reduce = true) =>
      crew({
        tasks: [
          { id: 'map', description: 'Summarize', expectedOutput: 'Summary', agent: 'researcher' },
          ...(reduce
            ? [
                {
                  id: 'reduce',
                  description: 'Merge',
                  expectedOutput: 'One',
                  agent: 'writer',
                  context: ['map'],
                },
              ]
            : []),
        ],
        process: { type: 'map-reduce', map: 'map', ...(reduce ? { reduce: 'reduce' } : {}) },
      });
    const echo = new RecordingChatModel([], {
      answer: (prompt) =>
        prompt.headers['Task-Id'] === 'map'
          ? `S${prompt.headers['Chunk'] ?? '-'}`
          : prompt.blocks.map((b) => `${b.attrs['chunk']}=${b.text}`).join(' '),
    });

    it('maps every chunk and reduces the outputs in document order', async () => {
      const text = longDocument(10);
      const progress: ProgressEvent[] = [];
      const result = await sut(
        { crew: mapReduce(), document: { name: 'long.md', text } },
        {
          models: fixedFactory(echo),
          chunkTokens: 150,
          chunkOverlapTokens: 20,
          onProgress: (e) => progress.push(e),
        },
      );

      const n = result.chunks;
      expect(n).toBeGreaterThan(3);
      expect(result.calls).toBe(n + 1);
      expect(result.output).toBe(
        Array.from({ length: n }, (_, i) => `${i + 1}/${n}=S${i + 1}/${n}`).join(' '),
      );
      const reducePrompt = echo.parsedPrompts.find((p) => p.headers['Task-Id'] === 'reduce')!;
      expect(reducePrompt.blocks.every((b) => b.type === 'CONTEXT')).toBe(true);
      for (const p of echo.parsedPrompts.filter((q) => q.headers['Task-Id'] === 'map')) {
        const chunk = p.blocks.find((b) => b.type === 'DOCUMENT')!;
        expect(countTokens(chunk.text)).toBeLessThanOrEqual(150);
        expect(chunk.attrs['chunk']).toBe(p.headers['Chunk']);
      }
      expect(progress.map((e) => e.completed)).toEqual(Array.from({ length: n + 1 }, (_, i) => i + 1));
      expect(progress.every((e) => e.total === n + 1 && e.stage === 'transform')).toBe(true);
      expect(progress[n].step).toBe('reduce');
    });

    it('runs the map task alone on a short document', async () => {
      const model = new RecordingChatModel(['whole summary']);
      const result = await sut({ crew: mapReduce(), document: DOC }, { models: fixedFactory(model) });
      expect(result).toMatchObject({
        output: 'whole summary',
        calls: 1,
        chunks: 1,
        agentsRun: ['researcher'],
      });
      expect(model.parsedPrompts[0].headers['Chunk']).toBeUndefined();
    });

    it('concatenates map outputs without overlap when there is no reduce task', async () => {
      const identity = new RecordingChatModel([], {
        answer: (p) => p.blocks.find((b) => b.type === 'DOCUMENT')!.text,
      });
      const text = longDocument(6);
      const result = await sut(
        { crew: mapReduce(false), document: { name: 'long.md', text } },
        { models: fixedFactory(identity), chunkTokens: 120, chunkOverlapTokens: 50 },
      );
      expect(result.chunks).toBeGreaterThan(2);
      expect(result.output).toBe(text);
    });

    it('never has more model calls in flight than the concurrency limit', async () => {
      const slow = new RecordingChatModel(['ok'], { sleep: 25 });
      const result = await sut(
        { crew: mapReduce(), document: { name: 'long.md', text: longDocument(12) } },
        { models: fixedFactory(slow), chunkTokens: 100, chunkOverlapTokens: 0, concurrency: 3 },
      );
      expect(result.chunks).toBeGreaterThan(6);
      expect(slow.maxInFlight).toBe(3);
    });
  });

  describe('cancellation and failures', () => {
    it('rejects as cancelled when the signal aborts during a model call', async () => {
      const slow = new RecordingChatModel(['late'], { sleep: 2000 });
      const controller = new AbortController();
      const started = Date.now();
      const run = sut(
        { crew: crew({}), document: DOC },
        { models: fixedFactory(slow), signal: controller.signal },
      );
      setTimeout(() => controller.abort(), 30);
      const error = await failure(run);
      expect(error).toMatchObject({ kind: 'cancelled', code: 'cancelled', message: 'cancelled' });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(slow.prompts).toHaveLength(1);
    });

    it('does not start when the signal has already aborted', async () => {
      const model = new RecordingChatModel(['x']);
      const controller = new AbortController();
      controller.abort();
      const error = await failure(
        sut({ crew: crew({}), document: DOC }, { models: fixedFactory(model), signal: controller.signal }),
      );
      expect(error.kind).toBe('cancelled');
      expect(model.prompts).toHaveLength(0);
    });

    it('fails a call that exceeds timeoutMsPerCall as retryable', async () => {
      const slow = new RecordingChatModel(['late'], { sleep: 2000 });
      const error = await failure(
        sut({ crew: crew({}), document: DOC }, { models: fixedFactory(slow), timeoutMsPerCall: 20 }),
      );
      expect(error).toMatchObject({ kind: 'retryable', code: 'model_timeout' });
      expect(error.message).toContain('agent "researcher" on task "research"');
    });

    it.each([
      ['HTTP 429', httpError(429), 'retryable', 'model_rate_limited'],
      ['HTTP 503', httpError(503), 'retryable', 'model_unavailable'],
      ['HTTP 401', httpError(401), 'permanent', 'model_rejected'],
      ['HTTP 404', httpError(404), 'permanent', 'model_rejected'],
      [
        'ECONNRESET',
        Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
        'retryable',
        'network',
      ],
    ])('classifies a failed call (%s)', async (_label, thrown, kind, code) => {
      const failing = new RecordingChatModel([], {
        answer: () => {
          throw thrown;
        },
      });
      const error = await failure(sut({ crew: crew({}), document: DOC }, { models: fixedFactory(failing) }));
      expect(error).toMatchObject({ kind, code });
    });

    it('names a missing or unknown parameter', async () => {
      const translate = crew({ params: { topic: {} } });
      const missing = await failure(
        sut(
          { crew: translate, document: DOC },
          { models: fixedFactory(new FakeListChatModel({ responses: ['x'] })) },
        ),
      );
      expect(missing).toMatchObject({
        kind: 'permanent',
        code: 'invalid_params',
        details: ['topic: required parameter is missing'],
      });
      const unknown = await failure(
        sut(
          { crew: translate, document: DOC, params: { topic: 'x', tpoic: 'y' } },
          { models: fixedFactory(new FakeListChatModel({ responses: ['x'] })) },
        ),
      );
      expect(unknown.details).toEqual(['tpoic: unknown parameter for crew "test"']);
    });

    it('rejects an invalid crew built in code', async () => {
      const bad = { ...crew({}), tasks: [] };
      const error = await failure(
        sut(
          { crew: bad, document: DOC },
          { models: fixedFactory(new FakeListChatModel({ responses: ['x'] })) },
        ),
      );
      expect(error).toMatchObject({ kind: 'permanent', code: 'invalid_crew' });
      expect(error.details[0]).toMatch(/^tasks: /);
    });

    it('rejects agents with tools, which the engine cannot run yet', async () => {
      const withTools = crew({
        agents: [
          { id: 'researcher', role: 'R', goal: 'G', tools: ['web-search'] },
          { id: 'writer', role: 'W', goal: 'G' },
        ],
      });
      const error = await failure(
        sut(
          { crew: withTools, document: DOC },
          { models: fixedFactory(new FakeListChatModel({ responses: ['x'] })) },
        ),
      );
      expect(error).toMatchObject({ kind: 'permanent', code: 'unsupported' });
      expect(error.message).toContain('agents[0].tools');
    });
  });

  describe('JSON output', () => {
    const jsonCrew = () =>
      crew({
        params: { schema: { type: 'json-schema' } },
        agents: [{ id: 'x', role: 'Extractor', goal: 'Extract' }],
        tasks: [
          {
            id: 'extract',
            kind: 'extract',
            description: 'Extract',
            expectedOutput: 'JSON',
            agent: 'x',
            format: 'json',
            jsonSchemaParam: 'schema',
          },
        ],
      });
    const schema = JSON.stringify({
      type: 'object',
      properties: { total: { type: 'number' } },
      required: ['total'],
    });

    it('retries once with the validation errors, then accepts valid JSON', async () => {
      const model = new RecordingChatModel(['{"total": "ten"}', '```json\n{"total": 10}\n```']);
      const result = await sut(
        { crew: jsonCrew(), document: DOC, params: { schema } },
        { models: fixedFactory(model) },
      );
      expect(result.json).toEqual({ total: 10 });
      expect(result.output).toBe('```json\n{\n  "total": 10\n}\n```');
      expect(result.calls).toBe(2);
      const retry = model.prompts[1];
      expect(retry).toHaveLength(4);
      expect(retry[2].text).toBe('{"total": "ten"}');
      expect(retry[3].text).toContain('- $.total: expected number, got string');
      expect(model.parsedPrompts[0].blocks.find((b) => b.type === 'JSON-SCHEMA')?.text).toBe(
        JSON.stringify(JSON.parse(schema), null, 2),
      );
    });

    it('fails permanently when the retry is invalid too', async () => {
      const model = new RecordingChatModel(['not json', '{"sum": 1}']);
      const error = await failure(
        sut({ crew: jsonCrew(), document: DOC, params: { schema } }, { models: fixedFactory(model) }),
      );
      expect(error).toMatchObject({
        kind: 'permanent',
        code: 'invalid_output',
        details: ['$.total: required property is missing'],
      });
      expect(model.prompts).toHaveLength(2);
    });

    it('rejects a schema parameter using keywords it cannot enforce', async () => {
      const error = await failure(
        sut(
          { crew: jsonCrew(), document: DOC, params: { schema: '{"type":"object","minProperties":1}' } },
          { models: fixedFactory(new FakeListChatModel({ responses: ['{}'] })) },
        ),
      );
      expect(error).toMatchObject({
        code: 'invalid_params',
        details: ['schema: $: unsupported keyword "minProperties"'],
      });
    });
  });

  describe('accounting', () => {
    it('sums the usage the provider reports, per agent and in total', async () => {
      const model = new RecordingChatModel(['a', 'b'], { usage: { input: 1000, output: 200 } });
      const result = await sut(
        { crew: crew({ defaults: { provider: 'openai', model: 'gpt-4o-mini' } }), document: DOC },
        { models: fixedFactory(model) },
      );
      expect(result.usage).toEqual({ inputTokens: 2000, outputTokens: 400, totalTokens: 2400 });
      expect(result.perAgent['researcher']).toMatchObject({ calls: 1, inputTokens: 1000, outputTokens: 200 });
      expect(result.perAgent['writer']).toMatchObject({ calls: 1, inputTokens: 1000, outputTokens: 200 });
      expect(result.usageEstimated).toBe(false);
      // gpt-4o-mini: $0.15 in, $0.60 out per 1M tokens
      expect(result.costEstimateUsd).toBeCloseTo((2000 * 0.15 + 400 * 0.6) / 1e6, 9);
      expect(result.costNote).toBeUndefined();
    });

    it('estimates usage with cl100k_base when the model reports none, and notes an unknown price', async () => {
      const model = new RecordingChatModel(['four words of answer']);
      const result = await sut({ crew: crew({}), document: DOC }, { models: fixedFactory(model) });
      const expectedInput = model.prompts.reduce((sum, messages) => sum + estimatePromptTokens(messages), 0);
      expect(result.usageEstimated).toBe(true);
      expect(result.usage.inputTokens).toBe(expectedInput);
      expect(result.usage.outputTokens).toBe(2 * countTokens('four words of answer'));
      expect(result.costEstimateUsd).toBe(0);
      expect(result.costNote).toBe('no price known for fake:fake-model; counted as 0');
    });

    it('applies a model override to every agent and reports the models used', async () => {
      const factory = fixedFactory(new RecordingChatModel(['a']));
      const result = await sut(
        {
          crew: crew({
            agents: [
              { id: 'researcher', role: 'R', goal: 'G', temperature: 0.7 },
              { id: 'writer', role: 'W', goal: 'G', model: 'other' },
            ],
          }),
          document: DOC,
        },
        { models: factory, modelOverride: { provider: 'openai', model: 'gpt-4.1' } },
      );
      expect(factory.specs).toEqual([
        { provider: 'openai', model: 'gpt-4.1', temperature: 0.7 },
        { provider: 'openai', model: 'gpt-4.1' },
      ]);
      expect(result.models).toEqual(['openai:gpt-4.1']);
    });
  });
});
