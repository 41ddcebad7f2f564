import { randomUUID } from 'node:crypto';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
  type BindToolsInput,
} from '@langchain/core/language_models/chat_models';
import { AIMessage, type AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import type { Runnable } from '@langchain/core/runnables';
import type { ChatResult } from '@langchain/core/outputs';
import { checkSchema, type JsonSchema } from '../json-schema/json-schema';
import { parsePrompt, type ParsedPrompt, type PromptBlock } from '../engine/prompt';
import { extractBySchema } from '../text/extract';
import { reviewDraft } from '../text/review-checks';
import { simplify } from '../text/simplify';
import { mergeSummaries, parseSummary, renderSummary, summarize } from '../text/summarize';
import { countTokens } from '../text/tokens';

export const OFFLINE_TRANSLATION_MARKER = '[offline model: no translation available]';

/** Per-message overhead in the token estimate, as OpenAI counts chat messages. */
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;

export interface OfflineChatModelFields extends BaseChatModelParams {
  /** Reported as the model name; `offline` by default. */
  model?: string;
}

function messageText(message: BaseMessage): string {
  return typeof message.content === 'string' ? message.content : JSON.stringify(message.content);
}

/** Prompt tokens as a chat API would count them: content tokens plus a small overhead per message. */
export function estimatePromptTokens(messages: BaseMessage[]): number {
  return messages.reduce(
    (sum, m) => sum + countTokens(messageText(m)) + TOKENS_PER_MESSAGE,
    TOKENS_PER_REPLY,
  );
}

/**
 * A chat model that runs on the machine, without a network or an LLM: deterministic text processing keyed on
 * the `Task-Kind` line of the engine's prompt (see ../engine/prompt.ts). It does what can honestly be done
 * without a language model: extractive summaries, key/value extraction, mechanical simplification, checks of
 * a draft, plans that follow the crew's own assignments; it does not translate, and says so. It never calls
 * tools (`bindTools` returns the model unchanged).
 * Token usage is estimated with cl100k_base and reported like a real model's.
 */
export class OfflineChatModel extends BaseChatModel {
  static override lc_name(): string {
    return 'OfflineChatModel';
  }

  readonly model: string;

  constructor(fields: OfflineChatModelFields = {}) {
    super(fields);
    this.model = fields.model ?? 'offline';
  }

  _llmType(): string {
    return 'offline';
  }

  /**
   * The offline model never calls tools: binding them returns the model itself, so a crew whose agents have
   * tools runs offline unchanged (each agent answers at once, as it would without tools).
   */
  override bindTools(
    _tools: BindToolsInput[],
    _kwargs?: Partial<BaseChatModelCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, BaseChatModelCallOptions> {
    return this;
  }

  /** Sums the token usage of several generations (what `generate()` reports in `llmOutput`). */
  override _combineLLMOutput(
    ...outputs: Array<Record<string, unknown> | undefined>
  ): Record<string, unknown> {
    const total = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
    for (const output of outputs) {
      const usage = output?.['tokenUsage'] as typeof total | undefined;
      if (!usage) continue;
      total.promptTokens += usage.promptTokens;
      total.completionTokens += usage.completionTokens;
      total.totalTokens += usage.totalTokens;
    }
    return { tokenUsage: total };
  }

  async _generate(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    _runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    options.signal?.throwIfAborted();
    const text = respond(parsePrompt(messages));
    const inputTokens = estimatePromptTokens(messages);
    const outputTokens = countTokens(text);
    const totalTokens = inputTokens + outputTokens;
    const message = new AIMessage({
      content: text,
      id: `offline-${randomUUID()}`,
      usage_metadata: { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: totalTokens },
      response_metadata: { model_name: this.model, finish_reason: 'stop' },
    });
    return {
      generations: [{ text, message }],
      llmOutput: { tokenUsage: { promptTokens: inputTokens, completionTokens: outputTokens, totalTokens } },
    };
  }
}

function block(prompt: ParsedPrompt, type: PromptBlock['type']): PromptBlock | undefined {
  return prompt.blocks.find((b) => b.type === type);
}

function documentText(prompt: ParsedPrompt): string {
  return block(prompt, 'DOCUMENT')?.text ?? '';
}

/** What the offline model answers to one prompt. Exported for tests. */
export function respond(prompt: ParsedPrompt): string {
  switch (prompt.kind) {
    case 'summarize':
      return renderSummary(
        summarize(documentText(prompt)),
        'Extractive summary (offline model): sentences selected from the document, not rewritten.',
      );
    case 'summarize-merge': {
      const parts = prompt.blocks.filter((b) => b.type === 'CONTEXT').map((b) => parseSummary(b.text));
      return renderSummary(
        mergeSummaries(parts),
        `Extractive summary (offline model) of ${parts.length} parts: sentences selected from the document, not rewritten.`,
      );
    }
    case 'translate': {
      const language = prompt.params['targetLanguage'] ?? 'the requested language';
      return `${OFFLINE_TRANSLATION_MARKER} The offline model cannot translate into ${language}; the text below is the original, unchanged.\n\n${documentText(prompt)}`;
    }
    case 'extract':
      return extract(prompt);
    case 'rewrite': {
      const audience = prompt.params['audience'] ?? 'a general audience';
      return `> Rewritten for ${audience} by the offline model: long sentences split and formal words replaced by plain ones; nothing else was changed.\n\n${simplify(documentText(prompt), { plain: true })}`;
    }
    case 'write': {
      const source = block(prompt, 'PREVIOUS-DRAFT')?.text ?? documentText(prompt);
      return simplify(source, { plain: false, maxWords: 30 });
    }
    case 'critique': {
      const draft = prompt.blocks.find((b) => b.type === 'CONTEXT')?.text ?? '';
      const problems = reviewDraft(draft, documentText(prompt) || undefined);
      return problems.length === 0
        ? 'APPROVED\n\nThe draft passes the offline checks: sentence length, repeated words, placeholders, code blocks, completeness.'
        : `Feedback:\n${problems.map((p) => `- ${p}`).join('\n')}`;
    }
    case 'plan':
      return plan(prompt);
    default:
      return `[offline model: task kind "${prompt.kind}" cannot be done without a language model] The document is returned unchanged.\n\n${documentText(prompt)}`;
  }
}

function extract(prompt: ParsedPrompt): string {
  const schemaText = block(prompt, 'JSON-SCHEMA')?.text;
  let schema: unknown;
  try {
    schema = schemaText ? JSON.parse(schemaText) : undefined;
  } catch {
    schema = undefined;
  }
  if (schema === undefined || checkSchema(schema).length > 0) return '{}';
  return JSON.stringify(extractBySchema(documentText(prompt), schema as JsonSchema), null, 2);
}

/** One `Delegate:` line per task, in the crew's order, each to the agent the crew names for it. */
function plan(prompt: ParsedPrompt): string {
  const tasks = block(prompt, 'TASKS')?.text ?? '';
  const lines = [...tasks.matchAll(/^- ([\w-]+) \(agent: ([\w-]+)\)/gm)].map(
    (m) => `Delegate: ${m[1]} -> ${m[2]}: follow the task description.`,
  );
  return lines.length > 0
    ? `Plan (offline model: each task goes to the agent the crew assigns it):\n${lines.join('\n')}`
    : 'Plan: nothing to delegate.';
}
