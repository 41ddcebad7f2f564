import { setTimeout as sleep } from 'node:timers/promises';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BindToolsInput,
} from '@langchain/core/language_models/chat_models';
import { AIMessage, type AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import type { Runnable } from '@langchain/core/runnables';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { parsePrompt, type ParsedPrompt } from '../engine/prompt';
import type { ModelFactory, ModelSpec } from '../providers/model-factory';

/**
 * LangChain's FakeListChatModel (answers from a list, in turn), recording every prompt and how many calls were
 * in flight at once. Optionally slow (`sleep` ms per call) and optionally answering from the prompt instead.
 */
export class RecordingChatModel extends FakeListChatModel {
  readonly prompts: BaseMessage[][] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    responses: string[],
    private readonly options: {
      sleep?: number;
      /** Answer from the prompt instead of the list (may throw to fail the call). */
      answer?: (prompt: ParsedPrompt, messages: BaseMessage[]) => string;
      /** Usage to report on every answer, as a provider would. */
      usage?: { input: number; output: number };
    } = {},
  ) {
    super({ responses });
  }

  get parsedPrompts(): ParsedPrompt[] {
    return this.prompts.map((m) => parsePrompt(m));
  }

  override async _generate(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    this.prompts.push(messages);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.options.sleep) await sleep(this.options.sleep, undefined, { signal: options.signal });
      const result = this.options.answer
        ? { generations: [this._formatGeneration(this.options.answer(parsePrompt(messages), messages))] }
        : await super._generate(messages, options, runManager);
      const usage = this.options.usage;
      if (usage) {
        const [generation] = result.generations;
        generation.message = new AIMessage({
          content: generation.text,
          usage_metadata: {
            input_tokens: usage.input,
            output_tokens: usage.output,
            total_tokens: usage.input + usage.output,
          },
        });
      }
      return result;
    } finally {
      this.inFlight--;
    }
  }
}

/** A factory handing out the same model for every spec, recording the specs it was asked for. */
export function fixedFactory(model: BaseChatModel): ModelFactory & { specs: ModelSpec[] } {
  const specs: ModelSpec[] = [];
  const factory = (spec: ModelSpec) => {
    specs.push(spec);
    return model;
  };
  return Object.assign(factory, { specs });
}

/** An error shaped like the OpenAI SDK's APIError. */
export function httpError(status: number, message = `HTTP ${status}`): Error {
  return Object.assign(new Error(message), { status });
}

export interface ScriptedToolCall {
  name: string;
  args: Record<string, unknown>;
  /** Left out: the call has no id (some providers omit it). */
  id?: string;
}

/** One answer of a ScriptedToolChatModel. */
export interface ScriptedTurn {
  content?: string;
  toolCalls?: ScriptedToolCall[];
  /** Calls whose arguments did not parse, as a provider reports them (`invalid_tool_calls`). */
  invalidToolCalls?: Array<{ name: string; args: string; id: string; error: string }>;
  usage?: { input: number; output: number };
  /** Fail this call instead of answering. */
  error?: Error;
  /** Wait this long (or until the call is aborted) before answering. */
  delayMs?: number;
}

export interface ScriptedToolModelCallOptions extends BaseChatModelCallOptions {
  /** Names of the tools bound with `bindTools` (set by `withConfig`). */
  boundTools?: string[];
}

export interface ScriptedCall {
  messages: BaseMessage[];
  /** Tools bound to the model for this call; empty when it was called without tools. */
  tools: string[];
}

/**
 * A chat model that answers from a script, one turn per call, and can ask for tools: each turn may carry
 * `tool_calls`. `bindTools` returns a view of the same model (same script, same records) that notes which tools
 * were bound, converting each with LangChain's OpenAI converter as a provider would. A turn may be a function
 * of the messages received. Calls beyond the script go to `then`, or fail, so a test sees every call it did not
 * expect.
 */
export class ScriptedToolChatModel extends BaseChatModel<ScriptedToolModelCallOptions> {
  readonly calls: ScriptedCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private next = 0;

  /** `then` answers every call after the script (without it, such a call fails). */
  constructor(
    private readonly script: Array<ScriptedTurn | ((messages: BaseMessage[]) => ScriptedTurn)>,
    private readonly then?: (messages: BaseMessage[]) => ScriptedTurn,
  ) {
    super({});
  }

  _llmType(): string {
    return 'scripted-tools';
  }

  override bindTools(
    tools: BindToolsInput[],
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, ScriptedToolModelCallOptions> {
    return this.withConfig({ boundTools: tools.map((t) => convertToOpenAITool(t).function.name) });
  }

  async _generate(messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    this.calls.push({ messages: [...messages], tools: options.boundTools ?? [] });
    const index = this.next++;
    const step = this.script[index] ?? this.then;
    if (step === undefined) throw new Error(`ScriptedToolChatModel: no turn scripted for call ${index + 1}`);
    const turn = typeof step === 'function' ? step(messages) : step;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(turn.delayMs ?? 0, undefined, { signal: options.signal });
      if (turn.error) throw turn.error;
      const content = turn.content ?? '';
      const message = new AIMessage({
        content,
        id: `scripted-${index + 1}`,
        tool_calls: (turn.toolCalls ?? []).map((call) => ({
          name: call.name,
          args: call.args,
          id: call.id,
          type: 'tool_call' as const,
        })),
        invalid_tool_calls: (turn.invalidToolCalls ?? []).map((call) => ({
          ...call,
          type: 'invalid_tool_call' as const,
        })),
        ...(turn.usage && {
          usage_metadata: {
            input_tokens: turn.usage.input,
            output_tokens: turn.usage.output,
            total_tokens: turn.usage.input + turn.usage.output,
          },
        }),
      });
      return { generations: [{ text: content, message }] };
    } finally {
      this.inFlight--;
    }
  }
}
