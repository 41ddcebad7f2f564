import {
  AIMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
  type BaseMessage,
} from '@langchain/core/messages';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { validateCrew } from '../crew/parse-crew';
import type { CrewInput } from '../crew/crew.schema';
import { EngineError } from '../errors';
import { createModelFactory } from '../providers/model-factory';
import { estimatePromptTokens } from '../providers/offline';
import { fixedFactory, httpError, RecordingChatModel, ScriptedToolChatModel } from '../testing/fakes';
import { longDocument, REPORT } from '../testing/fixtures';
import { parsePrompt } from './prompt';
import { countTokens } from '../text/tokens';
import { runCrew, type ProgressEvent } from './run-crew';
import { finalAnswerPrompt } from './tool-calls';

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
  });

  describe('agent tools', () => {
    type AgentInput = CrewInput['agents'][number];
    const toolCrew = (researcher: Partial<AgentInput> = {}, overrides: Partial<CrewInput> = {}) =>
      crew({
        agents: [
          {
            id: 'researcher',
            role: 'Researcher',
            goal: 'Find facts',
            tools: ['search_document', 'calculator'],
            ...researcher,
          },
          { id: 'writer', role: 'Writer', goal: 'Write' },
        ],
        ...overrides,
      });
    const add = { name: 'calculator', args: { expression: '1 + 1' } };

    function toolResults(messages: BaseMessage[]): ToolMessage[] {
      return messages.filter((m): m is ToolMessage => m instanceof ToolMessage);
    }

    it('runs the calls of an answer and feeds each result back for its call id, then takes the answer', async () => {
      const model = new ScriptedToolChatModel([
        {
          toolCalls: [
            { id: 'call_1', name: 'search_document', args: { query: 'ANCHORAGE', maxResults: 1 } },
            { id: 'call_2', name: 'calculator', args: { expression: '12 / 40 * 100' } },
          ],
          usage: { input: 100, output: 10 },
        },
        { content: 'Corrosion on 30% of the cables.', usage: { input: 300, output: 20 } },
        { content: 'the text', usage: { input: 50, output: 5 } },
      ]);
      const progress: ProgressEvent[] = [];

      const result = await sut(
        { crew: toolCrew(), document: DOC },
        { models: fixedFactory(model), onProgress: (e) => progress.push(e) },
      );

      expect(result.output).toBe('the text');
      expect(model.calls.map((c) => c.tools)).toEqual([
        ['search_document', 'calculator'],
        ['search_document', 'calculator'],
        [],
      ]);
      const [first, second, third] = model.calls.map((c) => c.messages);
      expect(second.slice(0, 2)).toEqual(first);
      expect(second[2]).toBeInstanceOf(AIMessage);
      expect((second[2] as AIMessage).tool_calls?.map((c) => c.id)).toEqual(['call_1', 'call_2']);
      const [search, calc] = toolResults(second);
      expect(second.slice(3)).toEqual([search, calc]);
      expect(search).toMatchObject({ tool_call_id: 'call_1', name: 'search_document', status: 'success' });
      const found = JSON.parse(search.text) as { totalMatches: number; passages: Array<{ offset: number }> };
      expect(found.totalMatches).toBe(2);
      expect(REPORT.slice(found.passages[0].offset).startsWith('anchorage')).toBe(true);
      expect(calc).toMatchObject({ tool_call_id: 'call_2', status: 'success', content: '30' });
      expect(parsePrompt(third).blocks[0]).toMatchObject({
        type: 'CONTEXT',
        text: 'Corrosion on 30% of the cables.',
      });
      expect(result.perAgent['researcher']).toMatchObject({
        calls: 2,
        toolCalls: 2,
        inputTokens: 400,
        outputTokens: 30,
      });
      expect(result.perAgent['writer']).toMatchObject({ calls: 1, toolCalls: 0 });
      expect(result).toMatchObject({
        calls: 3,
        toolCalls: 2,
        usage: { inputTokens: 450, outputTokens: 35, totalTokens: 485 },
      });
      expect(progress.map((e) => [e.step, e.completed, e.total])).toEqual([
        ['research', 1, 2],
        ['write', 2, 2],
      ]);
    });

    it('reports a failing tool, bad arguments and an unknown tool to the model, and the run goes on', async () => {
      const model = new ScriptedToolChatModel([
        {
          toolCalls: [
            { id: 'c1', name: 'calculator', args: { expression: '1 / 0' } },
            { id: 'c2', name: 'search_document', args: { query: 42 } },
            { id: 'c3', name: 'web_search', args: { q: 'bridges' } },
          ],
        },
        { toolCalls: [{ id: 'c4', name: 'calculator', args: { expression: '1 / 2' } }] },
        { content: 'recovered' },
        { content: 'the text' },
      ]);

      const result = await sut({ crew: toolCrew(), document: DOC }, { models: fixedFactory(model) });

      expect(result.output).toBe('the text');
      const afterErrors = toolResults(model.calls[1].messages);
      expect(afterErrors.map((m) => [m.tool_call_id, m.status])).toEqual([
        ['c1', 'error'],
        ['c2', 'error'],
        ['c3', 'error'],
      ]);
      expect(afterErrors[0].text).toBe('Error: calculator failed: division by zero at position 2');
      expect(afterErrors[1].text).toMatch(/^Error: invalid arguments for search_document: query: /);
      expect(afterErrors[2].text).toBe(
        'Error: unknown tool "web_search"; available tools: search_document, calculator',
      );
      expect(toolResults(model.calls[2].messages).map((m) => [m.tool_call_id, m.text])).toEqual([
        ['c1', afterErrors[0].text],
        ['c2', afterErrors[1].text],
        ['c3', afterErrors[2].text],
        ['c4', '0.5'],
      ]);
      expect(result.perAgent['researcher']).toMatchObject({ calls: 3, toolCalls: 4 });
    });

    it('after maxToolRounds asks once more, without tools, for the final answer; usage sums every round', async () => {
      const model = new ScriptedToolChatModel([
        { toolCalls: [{ id: 'r1', ...add }], usage: { input: 100, output: 10 } },
        { toolCalls: [{ id: 'r2', ...add }], usage: { input: 200, output: 20 } },
        { content: 'final answer', usage: { input: 300, output: 30 } },
        { content: 'the text', usage: { input: 7, output: 3 } },
      ]);

      const result = await sut(
        { crew: toolCrew({ maxToolRounds: 2 }, { maxToolRounds: 4 }), document: DOC },
        { models: fixedFactory(model) },
      );

      expect(result.output).toBe('the text');
      expect(model.calls.map((c) => c.tools.length)).toEqual([2, 2, 0, 0]);
      const final = model.calls[2].messages;
      expect(final.map((m) => m.getType())).toEqual(['system', 'human', 'ai', 'tool', 'ai', 'tool', 'human']);
      expect(final.at(-1)).toEqual(new HumanMessage(finalAnswerPrompt(2)));
      expect(parsePrompt(model.calls[3].messages).blocks[0].text).toBe('final answer');
      expect(result.perAgent['researcher']).toMatchObject({
        calls: 3,
        toolCalls: 2,
        inputTokens: 600,
        outputTokens: 60,
      });
      expect(result.usage).toEqual({ inputTokens: 607, outputTokens: 63, totalTokens: 670 });
      expect(result.notes).toContain(
        'agent "researcher" on task "research": the tool limit (2 round(s)) was reached; the final answer was asked for without tools',
      );
    });

    it('allows the crew-level limit, 5 rounds by default', async () => {
      const always = () => ({ toolCalls: [add] });
      const answer = (messages: BaseMessage[]) =>
        messages.some((m) => m instanceof ToolMessage) ? { content: 'final' } : always();
      const byDefault = new ScriptedToolChatModel(
        Array.from({ length: 5 }, () => always),
        answer,
      );
      const crewLevel = new ScriptedToolChatModel([always], answer);

      await sut({ crew: toolCrew(), document: DOC }, { models: fixedFactory(byDefault) });
      await sut(
        { crew: toolCrew({}, { maxToolRounds: 1 }), document: DOC },
        { models: fixedFactory(crewLevel) },
      );

      expect(byDefault.calls.map((c) => c.tools.length)).toEqual([2, 2, 2, 2, 2, 0, 0]);
      expect(toolResults(byDefault.calls[5].messages).map((m) => m.tool_call_id)).toEqual([
        'calculator-1-0',
        'calculator-2-0',
        'calculator-3-0',
        'calculator-4-0',
        'calculator-5-0',
      ]);
      expect(crewLevel.calls.map((c) => c.tools.length)).toEqual([2, 0, 0]);
    });

    it('gives a map task the whole document to search, within the concurrency limit', async () => {
      const text = longDocument(30);
      const model = new ScriptedToolChatModel([], (messages) => {
        const last = messages.at(-1);
        if (last instanceof ToolMessage) {
          const found = JSON.parse(last.text) as { passages: Array<{ line: number }> };
          return { content: `found on line ${found.passages[0].line}` };
        }
        return { toolCalls: [{ name: 'search_document', args: { query: 'paragraph 30 sentence 6' } }] };
      });
      const mapCrew = crew({
        agents: [{ id: 'mapper', role: 'M', goal: 'G', tools: ['search_document'] }],
        tasks: [{ id: 'map', description: 'Find it', expectedOutput: 'Line', agent: 'mapper' }],
        process: { type: 'map-reduce', map: 'map' },
      });

      const result = await sut(
        { crew: mapCrew, document: { name: 'long.md', text } },
        { models: fixedFactory(model), chunkTokens: 400, concurrency: 2 },
      );

      const line = text.split('\n').findIndex((l) => l.includes('Paragraph 30 sentence 6')) + 1;
      expect(result.chunks).toBeGreaterThan(3);
      expect(model.calls).toHaveLength(2 * result.chunks);
      expect(result.output.split('\n\n')).toEqual(
        Array.from({ length: result.chunks }, () => `found on line ${line}`),
      );
      expect(parsePrompt(model.calls[0].messages).blocks[0].text).not.toContain('Paragraph 30');
      expect(model.maxInFlight).toBe(2);
      expect(result.toolCalls).toBe(result.chunks);
    });

    it('times out a model call in a later round like any other call', async () => {
      const model = new ScriptedToolChatModel([
        { toolCalls: [{ id: 'c1', ...add }] },
        { content: 'late', delayMs: 5_000 },
      ]);

      const error = await failure(
        sut({ crew: toolCrew(), document: DOC }, { models: fixedFactory(model), timeoutMsPerCall: 100 }),
      );

      expect(error).toMatchObject({ kind: 'retryable', code: 'model_timeout' });
      expect(error.message).toBe(
        'agent "researcher" on task "research" (after tool round 1): model call timed out after 100 ms',
      );
    });

    it('stops between rounds when the run is cancelled', async () => {
      const controller = new AbortController();
      const model = new ScriptedToolChatModel([
        () => {
          controller.abort();
          return { toolCalls: [add] };
        },
      ]);

      const error = await failure(
        sut({ crew: toolCrew(), document: DOC }, { models: fixedFactory(model), signal: controller.signal }),
      );

      expect(error).toMatchObject({ kind: 'cancelled', code: 'cancelled' });
      expect(model.calls).toHaveLength(1);
    });

    it('fails permanent when the model of an agent with tools cannot call tools', async () => {
      const model = new ScriptedToolChatModel([]);
      Object.defineProperty(model, 'bindTools', { value: undefined });

      const error = await failure(sut({ crew: toolCrew(), document: DOC }, { models: fixedFactory(model) }));

      expect(error).toMatchObject({ kind: 'permanent', code: 'unsupported' });
      expect(error.message).toBe(
        'agent "researcher" has tools (search_document, calculator) but model fake:fake-model cannot call tools',
      );
      expect(model.calls).toHaveLength(0);
    });

    it('sends a system and a human message first, as without tools', async () => {
      const model = new ScriptedToolChatModel([{ content: 'no tools needed' }, { content: 'the text' }]);

      const result = await sut({ crew: toolCrew(), document: DOC }, { models: fixedFactory(model) });

      expect(result).toMatchObject({ output: 'the text', calls: 2, toolCalls: 0 });
      expect(model.calls[0].messages.map((m) => m.constructor)).toEqual([SystemMessage, HumanMessage]);
      expect(result.notes).toEqual([]);
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
