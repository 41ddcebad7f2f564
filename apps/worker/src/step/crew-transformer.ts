import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import {
  createModelFactory,
  createOpenAiChatModel,
  isBuiltinCrewName,
  loadBuiltinCrew,
  runCrew,
  validateCrew,
  type CrewDefinition,
  type ModelFactory,
} from '@docflow/agents';
import type { JobManifest } from '@docflow/contracts';
import { StepError } from './step-error';
import type { TransformInput, TransformResult, Transformer } from './transformer';

export interface ProviderConnection {
  /** The user's provider key: held here in memory only. */
  apiKey?: string;
  baseURL?: string;
  timeoutMs: number;
}

/** Runs the job's crew with `@docflow/agents`; one instance per step, shared by all its inputs. */
export class CrewTransformer implements Transformer {
  private readonly crew: CrewDefinition;
  private readonly models: ModelFactory;
  readonly reducible: boolean;

  constructor(
    private readonly manifest: JobManifest,
    private readonly connection: ProviderConnection,
  ) {
    this.crew = CrewTransformer.crewOf(manifest);
    this.reducible = this.crew.process.type === 'map-reduce';
    // One model per spec for the whole step, so `maxConcurrency` bounds the calls of every input together.
    const cache = new Map<string, BaseChatModel>();
    this.models = createModelFactory({
      openai: (spec) => {
        const key = JSON.stringify([spec.provider, spec.model, spec.temperature]);
        let model = cache.get(key);
        if (!model) {
          model = createOpenAiChatModel(spec, {
            apiKey: connection.apiKey,
            baseURL: connection.baseURL,
            timeoutMs: connection.timeoutMs,
            maxConcurrency: manifest.limits.modelConcurrency,
          });
          cache.set(key, model);
        }
        return model;
      },
    });
  }

  private static crewOf(manifest: JobManifest): CrewDefinition {
    try {
      if (typeof manifest.crew === 'string') {
        if (!isBuiltinCrewName(manifest.crew)) throw new Error(`unknown crew "${manifest.crew}"`);
        return loadBuiltinCrew(manifest.crew);
      }
      return validateCrew(manifest.crew);
    } catch (error) {
      throw StepError.permanent(`the job's crew is invalid: ${(error as Error).message}`);
    }
  }

  async transform(
    input: TransformInput,
    onProgress: (completed: number, total: number, step: string) => void,
    signal: AbortSignal,
  ): Promise<TransformResult> {
    const out = await runCrew(
      { crew: this.crew, document: input, params: this.manifest.params },
      {
        models: this.models,
        chunkTokens: this.manifest.limits.chunkTokens,
        concurrency: this.manifest.limits.modelConcurrency,
        signal,
        timeoutMsPerCall: this.connection.timeoutMs,
        modelOverride: this.manifest.model,
        onProgress: (event) => onProgress(event.completed, event.total, event.step),
      },
    );
    return {
      output: out.output,
      ...(out.json !== undefined ? { json: out.json } : {}),
      agentsRun: out.agentsRun,
      models: out.models,
      usage: out.usage,
      calls: out.calls,
      durationMs: out.durationMs,
      costEstimateUsd: out.costEstimateUsd,
      ...(out.costNote ? { costNote: out.costNote } : {}),
    };
  }
}
