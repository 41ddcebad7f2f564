import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { EngineError } from '../errors';
import { createTools, type AgentTool } from '../tools/registry';
import { MAX_TOOL_RESULT_CHARS, runToolCall, runToolRound, wantsTools } from './tool-calls';

const DOC = { name: 'a.md', text: 'The northern anchorage is corroded.' };

function toolMap(...extra: AgentTool[]): Map<string, AgentTool> {
  return new Map(
    [...createTools(['calculator', 'search_document'], { document: DOC }), ...extra].map((t) => [t.name, t]),
  );
}

describe(runToolCall.name, () => {
  const sut = runToolCall;

  it('answers with the tool result, for the call id', async () => {
    const result = await sut(
      { id: 'c1', name: 'calculator', args: { expression: '6 * 7' }, type: 'tool_call' },
      toolMap(),
    );

    expect(result).toBeInstanceOf(ToolMessage);
    expect(result).toMatchObject({
      tool_call_id: 'c1',
      name: 'calculator',
      status: 'success',
      content: '42',
    });
  });

  it('reports a tool that fails as an error result', async () => {
    const result = await sut(
      { id: 'c2', name: 'calculator', args: { expression: '1 / 0' }, type: 'tool_call' },
      toolMap(),
    );

    expect(result).toMatchObject({
      tool_call_id: 'c2',
      status: 'error',
      content: 'Error: calculator failed: division by zero at position 2',
    });
  });

  it("reports arguments the tool's schema rejects, without running the tool", async () => {
    const run = jest.fn(() => 'ran');
    const probe = tool(run, { name: 'probe', description: 'd', schema: z.object({ n: z.number().int() }) });

    const result = await sut(
      { id: 'c3', name: 'probe', args: { n: 'seven' }, type: 'tool_call' },
      toolMap(probe),
    );

    expect(result.status).toBe('error');
    expect(result.content).toMatch(/^Error: invalid arguments for probe: n: /);
    expect(run).not.toHaveBeenCalled();
  });

  it('reports an unknown tool, listing the available ones', async () => {
    const result = await sut({ id: 'c4', name: 'web_search', args: {}, type: 'tool_call' }, toolMap());

    expect(result).toMatchObject({
      status: 'error',
      content: 'Error: unknown tool "web_search"; available tools: calculator, search_document',
    });
  });

  it('cuts a very long result', async () => {
    const long = tool(() => 'x'.repeat(MAX_TOOL_RESULT_CHARS + 10), {
      name: 'long',
      description: 'd',
      schema: z.object({}),
    });

    const result = await sut({ id: 'c5', name: 'long', args: {}, type: 'tool_call' }, toolMap(long));

    expect(result.text).toHaveLength(
      MAX_TOOL_RESULT_CHARS + `\n[result cut at ${MAX_TOOL_RESULT_CHARS} characters]`.length,
    );
  });

  it('throws cancelled when the run is aborted while a tool runs', async () => {
    const controller = new AbortController();
    const aborting = tool(
      () => {
        controller.abort(new Error('stop'));
        throw new Error('interrupted');
      },
      { name: 'aborting', description: 'd', schema: z.object({}) },
    );

    await expect(
      sut({ id: 'c6', name: 'aborting', args: {}, type: 'tool_call' }, toolMap(aborting), controller.signal),
    ).rejects.toMatchObject({ kind: 'cancelled' } satisfies Partial<EngineError>);
  });
});

describe(runToolRound.name, () => {
  const sut = runToolRound;

  it('runs every call in order and keeps the answer as it is', async () => {
    const answer = new AIMessage({
      content: '',
      tool_calls: [
        { id: 'a', name: 'search_document', args: { query: 'anchorage' }, type: 'tool_call' },
        { id: 'b', name: 'calculator', args: { expression: '2 +' }, type: 'tool_call' },
      ],
    });

    const round = await sut(answer, toolMap(), 1);

    expect(round.assistant).toBe(answer);
    expect(round.failed).toBe(1);
    expect(round.results.map((r) => [r.tool_call_id, r.status])).toEqual([
      ['a', 'success'],
      ['b', 'error'],
    ]);
    expect(JSON.parse(round.results[0].text)).toMatchObject({ totalMatches: 1, passages: [{ offset: 13 }] });
  });

  it('gives ids to calls without one and answers malformed calls with an error', async () => {
    const answer = new AIMessage({
      content: 'Let me check.',
      tool_calls: [{ name: 'calculator', args: { expression: '1 + 1' }, type: 'tool_call' }],
      invalid_tool_calls: [
        {
          id: 'bad',
          name: 'search_document',
          args: '{"query": ',
          error: 'Unexpected end',
          type: 'invalid_tool_call',
        },
      ],
    });

    const round = await sut(answer, toolMap(), 2);

    expect(round.assistant).not.toBe(answer);
    expect(round.assistant.content).toBe('Let me check.');
    expect(round.assistant.tool_calls?.map((c) => [c.id, c.name])).toEqual([
      ['calculator-2-0', 'calculator'],
      ['bad', 'search_document'],
    ]);
    expect(round.results.map((r) => [r.tool_call_id, r.status])).toEqual([
      ['calculator-2-0', 'success'],
      ['bad', 'error'],
    ]);
    expect(round.results[1].text).toBe(
      'Error: the arguments of search_document are not valid JSON (Unexpected end): {"query": ',
    );
    expect(round.failed).toBe(1);
  });
});

describe(wantsTools.name, () => {
  it('is true for valid or malformed calls only', () => {
    expect(wantsTools(new AIMessage('done'))).toBe(false);
    expect(
      wantsTools(
        new AIMessage({ content: '', tool_calls: [{ id: 'x', name: 'n', args: {}, type: 'tool_call' }] }),
      ),
    ).toBe(true);
    expect(
      wantsTools(
        new AIMessage({
          content: '',
          invalid_tool_calls: [{ id: 'x', name: 'n', args: '{', error: 'e', type: 'invalid_tool_call' }],
        }),
      ),
    ).toBe(true);
  });
});
