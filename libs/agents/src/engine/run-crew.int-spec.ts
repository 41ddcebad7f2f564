import { validateCrew } from '../crew/parse-crew';
import { createModelFactory } from '../providers/model-factory';
import { createOpenAiChatModel } from '../providers/openai';
import {
  startOpenAiCompatibleServer,
  type ChatCompletionRequestBody,
  type OpenAiCompatibleServer,
} from '../testing/openai-compatible-server';
import { REPORT } from '../testing/fixtures';
import { runCrew } from './run-crew';
import { finalAnswerPrompt } from './tool-calls';

const API_KEY = 'sk-docflow-tools-int-4e1d';
const MODEL = 'docflow-tool-model';
const DOC = { name: 'report.md', text: REPORT };

/** One agent with search_document; the model is ChatOpenAI against the local OpenAI-compatible server. */
function researchCrew(maxToolRounds?: number) {
  return validateCrew({
    name: 'research',
    defaults: { provider: 'vllm', model: MODEL, temperature: 0 },
    ...(maxToolRounds === undefined ? {} : { maxToolRounds }),
    agents: [
      {
        id: 'researcher',
        role: 'Researcher',
        goal: 'Answer questions about the document',
        tools: ['search_document', 'calculator'],
      },
    ],
    tasks: [
      {
        id: 'answer',
        description: 'Where was the corrosion found?',
        expectedOutput: 'One sentence',
        agent: 'researcher',
      },
    ],
    process: 'sequential',
  });
}

describe(`${runCrew.name} with tools through ChatOpenAI`, () => {
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

  const models = () =>
    createModelFactory({
      openai: (spec) =>
        createOpenAiChatModel(spec, {
          apiKey: API_KEY,
          baseURL: server.baseURL,
          timeoutMs: 5_000,
          maxRetries: 0,
        }),
    });

  const bodies = () => server.completionRequests.map((r) => r.body as ChatCompletionRequestBody);

  it('offers the tools, runs the requested search_document and sends its result back for the answer', async () => {
    server.script(
      {
        toolCalls: [
          { id: 'call_search_1', name: 'search_document', arguments: { query: 'corrosion', maxResults: 2 } },
        ],
        usage: { promptTokens: 400, completionTokens: 20 },
      },
      {
        content: 'Corrosion was found on twelve cables near the northern anchorage.',
        usage: { promptTokens: 900, completionTokens: 15 },
      },
    );

    const result = await runCrew({ crew: researchCrew(), document: DOC }, { models: models() });

    expect(result.output).toBe('Corrosion was found on twelve cables near the northern anchorage.');
    expect(result).toMatchObject({
      calls: 2,
      toolCalls: 1,
      models: [`vllm:${MODEL}`],
      usage: { inputTokens: 1300, outputTokens: 35, totalTokens: 1335 },
      usageEstimated: false,
    });
    const [offer, answer] = bodies();
    expect(offer.tools?.map((t) => t.function.name)).toEqual(['search_document', 'calculator']);
    expect(offer.tools?.[0].function.parameters).toMatchObject({
      type: 'object',
      properties: { query: { type: 'string' }, maxResults: { type: 'integer' } },
      required: ['query'],
    });
    expect(answer.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(answer.messages[2]).toMatchObject({
      role: 'assistant',
      tool_calls: [
        {
          id: 'call_search_1',
          type: 'function',
          function: { name: 'search_document', arguments: '{"query":"corrosion","maxResults":2}' },
        },
      ],
    });
    const toolMessage = answer.messages[3];
    expect(toolMessage).toMatchObject({ role: 'tool', tool_call_id: 'call_search_1' });
    const found = JSON.parse(String(toolMessage.content)) as {
      document: string;
      totalMatches: number;
      passages: Array<{ offset: number; heading?: string; text: string }>;
    };
    expect(found).toMatchObject({ document: 'report.md', totalMatches: 2 });
    expect(found.passages[0].heading).toBe('Findings');
    expect(found.passages[0].text).toContain('Corrosion was found on twelve of the forty steel cables');
    expect(REPORT.slice(found.passages[0].offset, found.passages[0].offset + 9)).toBe('Corrosion');
  });

  it('after the last allowed round asks without tools, with the tool history, and takes that answer', async () => {
    server.script(
      { toolCalls: [{ id: 'call_a', name: 'calculator', arguments: { expression: '12 / 40' } }] },
      { content: 'Thirty percent of the cables are corroded.' },
    );

    const result = await runCrew({ crew: researchCrew(1), document: DOC }, { models: models() });

    expect(result.output).toBe('Thirty percent of the cables are corroded.');
    const [offer, final] = bodies();
    expect(offer.tools).toHaveLength(2);
    expect(final.tools).toBeUndefined();
    expect(final.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'user']);
    expect(final.messages[3]).toMatchObject({ tool_call_id: 'call_a', content: '0.3' });
    expect(final.messages[4]).toEqual({ role: 'user', content: finalAnswerPrompt(1) });
  });
});
