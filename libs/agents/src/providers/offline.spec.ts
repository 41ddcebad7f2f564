import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { createTools } from '../tools/registry';
import { buildMessages, type TaskPrompt } from '../engine/prompt';
import { REPORT } from '../testing/fixtures';
import { countTokens } from '../text/tokens';
import { estimatePromptTokens, OfflineChatModel, OFFLINE_TRANSLATION_MARKER } from './offline';

const AGENT = { agentId: 'a', role: 'Role', goal: 'Goal', instructions: '' };

function task(overrides: Partial<TaskPrompt>): TaskPrompt {
  return {
    kind: 'summarize',
    taskId: 't',
    format: 'markdown',
    params: {},
    description: 'Do it',
    expectedOutput: 'Done',
    blocks: [{ type: 'DOCUMENT', attrs: { name: 'report.md' }, text: REPORT }],
    ...overrides,
  };
}

describe(OfflineChatModel.name, () => {
  const sut = new OfflineChatModel();

  it('reports token usage like a real model, counted with cl100k_base', async () => {
    const messages = buildMessages(AGENT, task({}));
    const result = await sut.generate([messages]);
    const message = await sut.invoke(messages);
    const inputTokens = estimatePromptTokens(messages);
    const outputTokens = countTokens(message.text);
    expect(message.usage_metadata).toEqual({
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      total_tokens: inputTokens + outputTokens,
    });
    expect(result.llmOutput).toEqual({
      tokenUsage: {
        promptTokens: inputTokens,
        completionTokens: outputTokens,
        totalTokens: inputTokens + outputTokens,
      },
    });
    expect(inputTokens).toBeGreaterThan(countTokens(REPORT));
  });

  it('answers deterministically, with a unique message id each time', async () => {
    const messages = buildMessages(AGENT, task({}));
    const [first, second] = [await sut.invoke(messages), await sut.invoke(messages)];
    expect(first.text).toBe(second.text);
    expect(first.id).toMatch(/^offline-/);
    expect(first.id).not.toBe(second.id);
  });

  it('marks translations as unavailable instead of pretending', async () => {
    const message = await sut.invoke(
      buildMessages(AGENT, task({ kind: 'translate', params: { targetLanguage: 'Italian' } })),
    );
    expect(message.text).toBe(
      `${OFFLINE_TRANSLATION_MARKER} The offline model cannot translate into Italian; the text below is the original, unchanged.\n\n${REPORT}`,
    );
  });

  it('gives feedback on a draft that fails its checks, APPROVED otherwise', async () => {
    const long = `${Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ')}.`;
    const critique = (draft: string) =>
      sut.invoke(
        buildMessages(
          AGENT,
          task({ kind: 'critique', blocks: [{ type: 'CONTEXT', attrs: { task: 'draft' }, text: draft }] }),
        ),
      );
    expect((await critique(`${long} It is is done. TBD`)).text).toBe(
      'Feedback:\n- Sentence 1 has 40 words (at most 35): "word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 …"\n' +
        '- Repeated word: "is is".\n- Unfinished placeholder left in the text: "TBD".',
    );
    expect((await critique('A short and finished draft about the bridge.')).text).toMatch(/^APPROVED\n/);
  });

  it('plans by delegating each task to the agent the crew gives it, in order', async () => {
    const message = await sut.invoke(
      buildMessages(
        AGENT,
        task({
          kind: 'plan',
          blocks: [
            {
              type: 'TASKS',
              attrs: {},
              text: '- research (agent: r): Research\n- write (agent: w) [after: research]: Write',
            },
          ],
        }),
      ),
    );
    expect(message.text).toBe(
      'Plan (offline model: each task goes to the agent the crew assigns it):\n' +
        'Delegate: research -> r: follow the task description.\nDelegate: write -> w: follow the task description.',
    );
  });

  it('says plainly when a task needs a language model', async () => {
    const message = await sut.invoke([
      new SystemMessage('You are helpful'),
      new HumanMessage('Write a poem'),
    ]);
    expect(message.text).toBe(
      '[offline model: task kind "generic" cannot be done without a language model] The document is returned unchanged.\n\n',
    );
  });

  it('ignores tools bound to it and never calls them', async () => {
    const tools = createTools(['search_document', 'calculator'], {
      document: { name: 'report.md', text: REPORT },
    });
    const messages = buildMessages(AGENT, task({}));

    const bound = sut.bindTools(tools);
    const message = await bound.invoke(messages);

    expect(bound).toBe(sut);
    expect(message.tool_calls ?? []).toEqual([]);
    expect(message.text).toBe((await sut.invoke(messages)).text);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sut.invoke(buildMessages(AGENT, task({})), { signal: controller.signal })).rejects.toThrow();
  });
});
