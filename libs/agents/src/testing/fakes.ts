import { setTimeout as sleep } from 'node:timers/promises';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
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
export function fixedFactory(
  model: RecordingChatModel | FakeListChatModel,
): ModelFactory & { specs: ModelSpec[] } {
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
