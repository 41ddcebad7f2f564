import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { EngineError } from '../errors';
import { OfflineChatModel } from './offline';

export interface ModelSpec {
  provider: string;
  model: string;
  temperature?: number;
}

/** Makes the chat model for one agent. The engine gets one from its caller and never builds providers itself. */
export type ModelFactory = (spec: ModelSpec) => BaseChatModel;

/** Providers served by an OpenAI-compatible chat completions API. */
export const OPENAI_COMPATIBLE_PROVIDERS: readonly string[] = [
  'openai',
  'openai-compatible',
  'azure',
  'ollama',
  'vllm',
];

export interface ModelFactoryOptions {
  /** Every agent gets the offline model, whatever its crew says (local runs, CI, demos). */
  offline?: boolean;
  /** Builds models for the OpenAI-compatible providers (wraps `createOpenAiChatModel` with its connection). */
  openai?: ModelFactory;
}

export function createModelFactory(options: ModelFactoryOptions): ModelFactory {
  return (spec) => {
    if (options.offline || spec.provider === 'offline') {
      return new OfflineChatModel({ model: spec.provider === 'offline' ? spec.model : 'offline' });
    }
    if (OPENAI_COMPATIBLE_PROVIDERS.includes(spec.provider)) {
      if (!options.openai) {
        throw EngineError.permanent('unknown_provider', `provider "${spec.provider}" is not configured`);
      }
      return options.openai(spec);
    }
    throw EngineError.permanent('unknown_provider', `unknown model provider "${spec.provider}"`);
  };
}
