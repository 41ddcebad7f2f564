import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import type { Runnable } from '@langchain/core/runnables';
import type { AgentDefinition, CrewDefinition, TaskDefinition, TaskKind } from '../crew/crew.schema';
import { validateCrew } from '../crew/parse-crew';
import { resolveParams, substitute, type ResolvedParams } from '../crew/params';
import { classifyModelError, EngineError } from '../errors';
import { parseJsonAnswer, validateJson, type JsonSchema } from '../json-schema/json-schema';
import type { ModelFactory, ModelSpec } from '../providers/model-factory';
import { estimatePromptTokens, OfflineChatModel } from '../providers/offline';
import { countTokens, splitByTokens } from '../text/tokens';
import { createTools, type AgentTool } from '../tools/registry';
import { runHierarchical, runMapReduce, runSequential } from './graphs';
import { estimateCost, type ModelPrice } from './pricing';
import { buildMessages, type PromptBlock, type TaskPrompt } from './prompt';
import { Semaphore } from './semaphore';
import { DEFAULT_MAX_TOOL_ROUNDS, finalAnswerPrompt, runToolRound, wantsTools } from './tool-calls';

export interface CrewRunInput {
  crew: CrewDefinition;
  document: { name: string; text: string };
  params?: Record<string, string>;
}

export interface ProgressEvent {
  stage: 'transform';
  /** The task that just finished: `draft`, `summarize-chunk[2/5]`, `plan`. */
  step: string;
  completed: number;
  /** Planned steps; grows when a writer/critic loop goes another round. */
  total: number;
}

export interface CrewRunOptions {
  models: ModelFactory;
  /** Largest chunk of the document given to one map task, in cl100k_base tokens. Default 3000. */
  chunkTokens?: number;
  /** Tokens shared by consecutive chunks when a reduce task merges them. Default 200. */
  chunkOverlapTokens?: number;
  /** Model calls in flight at once (map tasks run in parallel). Default 4. */
  concurrency?: number;
  /** Aborting rejects the run with EngineError kind `cancelled` (message `cancelled`). */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Each model call fails as retryable `model_timeout` after this long. */
  timeoutMsPerCall?: number;
  /** Replaces the provider and/or model of every agent (the job chose the model, not the crew). */
  modelOverride?: Partial<Pick<ModelSpec, 'provider' | 'model'>>;
  /** USD per 1M tokens by model name; DEFAULT_PRICES when absent. */
  prices?: Readonly<Record<string, ModelPrice>>;
}

export interface AgentUsage {
  /** Model calls, every round of a tool-calling loop included. */
  calls: number;
  /** Tool calls the agent's model made (failed ones included). */
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  durationMs: number;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface CrewRunResult {
  /** Markdown. For a JSON task, the JSON in a fenced block. */
  output: string;
  /** The parsed, validated JSON when the output task answers JSON. */
  json?: unknown;
  /** Agent ids in the order they first ran. */
  agentsRun: string[];
  /** `provider:model` of every model used, in the order first used. */
  models: string[];
  usage: TokenUsage;
  perAgent: Record<string, AgentUsage>;
  calls: number;
  /** Tool calls made by all agents. */
  toolCalls: number;
  durationMs: number;
  costEstimateUsd: number;
  /** Set when a model has no known price (counted as 0). */
  costNote?: string;
  /** True when a model did not report usage and it was estimated with cl100k_base. */
  usageEstimated: boolean;
  /** How many chunks the document was split into (1 unless the crew is map-reduce). */
  chunks: number;
  /** What a reader of the sidecar should know: review outcome, plan, truncation. */
  notes: string[];
}

export const DEFAULT_CHUNK_TOKENS = 3000;
export const DEFAULT_CHUNK_OVERLAP_TOKENS = 200;
export const DEFAULT_CONCURRENCY = 4;

/** What one task gets besides its definition. */
export interface TaskRunExtras {
  /** Outputs of the tasks named in `context`, by task id. */
  outputs: Record<string, string>;
  /** The document (or chunk) text; null leaves the document out. */
  document: string | null;
  chunk?: { index: number; total: number };
  round?: number;
  /** Run by this agent instead of the task's own (hierarchical delegation). */
  agentId?: string;
  blocks?: PromptBlock[];
  /** Added to the task description (a manager's note). */
  note?: string;
  /** Progress step name; the task id by default. */
  step?: string;
  /** The Task-Kind line, when it is not the task's own kind (a manager's plan). */
  kindOverride?: TaskKind;
  /** The answer covers part of the document: any field may be null (the merged result is checked in full). */
  partialJson?: boolean;
}

export interface TaskOutput {
  text: string;
  json?: unknown;
}

interface ModelEntry {
  model: BaseChatModel;
  label: string;
  provider: string;
  modelName: string;
}

/** Anything a model call can go to: a chat model, or one with tools bound. */
type Invokable = Pick<Runnable<BaseLanguageModelInput, unknown>, 'invoke'>;

/** An agent's tools in this run, and its model with them bound. */
interface AgentToolSet {
  byName: Map<string, AgentTool>;
  bound: Invokable;
  maxRounds: number;
}

/** One run of one crew: owns the models, the accounting and the progress of the run. */
export class CrewRun {
  readonly notes: string[] = [];
  readonly params: ResolvedParams;
  private readonly agents: Map<string, AgentDefinition>;
  private readonly models = new Map<string, ModelEntry>();
  private readonly toolSets = new Map<string, AgentToolSet>();
  private readonly perAgent: Record<string, AgentUsage> = {};
  private readonly agentsRun: string[] = [];
  private readonly costLines = new Map<
    string,
    { provider: string; model: string; inputTokens: number; outputTokens: number }
  >();
  private readonly semaphore: Semaphore;
  private calls = 0;
  private toolCalls = 0;
  private usageEstimated = false;
  private completed = 0;
  private total = 0;

  constructor(
    readonly crew: CrewDefinition,
    readonly document: { name: string; text: string },
    given: Record<string, string> | undefined,
    private readonly options: CrewRunOptions,
  ) {
    this.params = resolveParams(crew, given);
    this.agents = new Map(crew.agents.map((a) => [a.id, a]));
    this.semaphore = new Semaphore(options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  get concurrency(): number {
    return this.options.concurrency ?? DEFAULT_CONCURRENCY;
  }

  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  task(id: string): TaskDefinition {
    const task = this.crew.tasks.find((t) => t.id === id);
    if (!task) throw EngineError.permanent('invalid_crew', `unknown task "${id}"`);
    return task;
  }

  agent(id: string): AgentDefinition {
    const agent = this.agents.get(id);
    if (!agent) throw EngineError.permanent('invalid_crew', `unknown agent "${id}"`);
    return agent;
  }

  planSteps(count: number): void {
    this.total += count;
  }

  throwIfCancelled(): void {
    if (this.options.signal?.aborted) throw EngineError.cancelled(this.options.signal.reason);
  }

  private stepDone(step: string): void {
    this.completed++;
    this.total = Math.max(this.total, this.completed);
    this.options.onProgress?.({ stage: 'transform', step, completed: this.completed, total: this.total });
  }

  private modelFor(agent: AgentDefinition): ModelEntry {
    const override = this.options.modelOverride ?? {};
    const spec: ModelSpec = {
      provider: override.provider ?? agent.provider ?? this.crew.defaults.provider ?? '',
      model: override.model ?? agent.model ?? this.crew.defaults.model ?? '',
    };
    const temperature = agent.temperature ?? this.crew.defaults.temperature;
    if (temperature !== undefined) spec.temperature = temperature;
    const key = JSON.stringify(spec);
    let entry = this.models.get(key);
    if (!entry) {
      let model: BaseChatModel;
      try {
        model = this.options.models(spec);
      } catch (error) {
        if (error instanceof EngineError) throw error;
        throw new EngineError(
          'permanent',
          'model_setup',
          `cannot create model ${spec.provider}:${spec.model}: ${String(error)}`,
          {
            cause: error,
          },
        );
      }
      // The factory may serve every spec offline (createModelFactory({ offline: true })): report what really ran.
      const [provider, modelName] =
        model instanceof OfflineChatModel ? ['offline', model.model] : [spec.provider, spec.model];
      entry = { model, provider, modelName, label: `${provider}:${modelName}` };
      this.models.set(key, entry);
    }
    return entry;
  }

  /**
   * One answer of an agent. An agent with tools answers through the tool-calling loop: its model is called with
   * the tools bound; while the answer asks for tools, they run and their results go back to the model, for at
   * most `maxToolRounds` rounds, after which the model is asked once more without tools.
   */
  async call(agentId: string, messages: BaseMessage[], what: string): Promise<string> {
    const agent = this.agent(agentId);
    const entry = this.modelFor(agent);
    if (agent.tools.length === 0)
      return (await this.invoke(agentId, entry, entry.model, messages, what)).text;
    const tools = this.toolSetFor(agent, entry);
    const conversation = [...messages];
    for (let round = 1; round <= tools.maxRounds; round++) {
      const label = round === 1 ? what : `${what} (after tool round ${round - 1})`;
      const answer = await this.invoke(agentId, entry, tools.bound, conversation, label);
      if (!wantsTools(answer)) return answer.text;
      this.throwIfCancelled();
      const done = await runToolRound(answer, tools.byName, round, this.options.signal);
      this.toolCalls += done.results.length;
      this.usageOf(agentId).toolCalls += done.results.length;
      conversation.push(done.assistant, ...done.results);
    }
    this.notes.push(
      `${what}: the tool limit (${tools.maxRounds} round(s)) was reached; the final answer was asked for without tools`,
    );
    conversation.push(new HumanMessage(finalAnswerPrompt(tools.maxRounds)));
    const final = await this.invoke(agentId, entry, entry.model, conversation, `${what} (final answer)`);
    return final.text;
  }

  /** The agent's tools for this run (built with this run's document) and its model with them bound. */
  private toolSetFor(agent: AgentDefinition, entry: ModelEntry): AgentToolSet {
    let set = this.toolSets.get(agent.id);
    if (!set) {
      const tools = createTools(agent.tools, { document: this.document });
      if (typeof entry.model.bindTools !== 'function') {
        throw EngineError.permanent(
          'unsupported',
          `agent "${agent.id}" has tools (${agent.tools.join(', ')}) but model ${entry.label} cannot call tools`,
        );
      }
      set = {
        byName: new Map(tools.map((t) => [t.name, t])),
        bound: entry.model.bindTools(tools),
        maxRounds: agent.maxToolRounds ?? this.crew.maxToolRounds ?? DEFAULT_MAX_TOOL_ROUNDS,
      };
      this.toolSets.set(agent.id, set);
    }
    return set;
  }

  /** One model call, bounded by the concurrency limit, the per-call timeout and the run's signal; accounted. */
  private async invoke(
    agentId: string,
    entry: ModelEntry,
    model: Invokable,
    messages: BaseMessage[],
    what: string,
  ): Promise<AIMessage> {
    return this.semaphore.run(async () => {
      this.throwIfCancelled();
      const started = Date.now();
      const controller = new AbortController();
      const runSignal = this.options.signal;
      const onAbort = () => controller.abort(runSignal?.reason);
      runSignal?.addEventListener('abort', onAbort, { once: true });
      let timedOut = false;
      const timeoutMs = this.options.timeoutMsPerCall;
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              controller.abort(new Error(`timed out after ${timeoutMs} ms`));
            }, timeoutMs);
      let message: AIMessage;
      try {
        message = (await raceAbort(
          model.invoke(messages, { signal: controller.signal }),
          controller.signal,
        )) as AIMessage;
      } catch (error) {
        if (runSignal?.aborted) throw EngineError.cancelled(runSignal.reason);
        if (timedOut) {
          throw new EngineError(
            'retryable',
            'model_timeout',
            `${what}: model call timed out after ${timeoutMs} ms`,
            {
              cause: error,
            },
          );
        }
        throw classifyModelError(error, `${what} (${entry.label})`);
      } finally {
        clearTimeout(timer);
        runSignal?.removeEventListener('abort', onAbort);
      }
      this.account(agentId, entry, messages, message, Date.now() - started);
      return message;
    });
  }

  private usageOf(agentId: string): AgentUsage {
    return (this.perAgent[agentId] ??= {
      calls: 0,
      toolCalls: 0,
      inputTokens: 0,
      outputTokens: 0,
      durationMs: 0,
    });
  }

  private account(
    agentId: string,
    entry: ModelEntry,
    messages: BaseMessage[],
    message: AIMessage,
    durationMs: number,
  ): void {
    let usage = reportedUsage(message);
    if (!usage) {
      this.usageEstimated = true;
      const calls = message.tool_calls?.length ? JSON.stringify(message.tool_calls) : '';
      usage = {
        inputTokens: estimatePromptTokens(messages),
        outputTokens: countTokens(message.text + calls),
      };
    }
    this.calls++;
    if (!this.agentsRun.includes(agentId)) this.agentsRun.push(agentId);
    const mine = this.usageOf(agentId);
    mine.calls++;
    mine.inputTokens += usage.inputTokens;
    mine.outputTokens += usage.outputTokens;
    mine.durationMs += durationMs;
    const line = this.costLines.get(entry.label) ?? {
      provider: entry.provider,
      model: entry.modelName,
      inputTokens: 0,
      outputTokens: 0,
    };
    line.inputTokens += usage.inputTokens;
    line.outputTokens += usage.outputTokens;
    this.costLines.set(entry.label, line);
  }

  /** Builds the prompt of a task, calls its agent, and checks a JSON answer (one retry with the errors). */
  async runTask(task: TaskDefinition, extras: TaskRunExtras): Promise<TaskOutput> {
    this.throwIfCancelled();
    const agentId = extras.agentId ?? task.agent;
    const agent = this.agent(agentId);
    const values = this.params.values;
    const blocks: PromptBlock[] = [];
    for (const ref of task.context) {
      if (extras.outputs[ref] !== undefined)
        blocks.push({ type: 'CONTEXT', attrs: { task: ref }, text: extras.outputs[ref] });
    }
    blocks.push(...(extras.blocks ?? []));
    const fullSchema = task.jsonSchemaParam ? this.params.schemas[task.jsonSchemaParam] : undefined;
    const schema = fullSchema && extras.partialJson ? nullable(fullSchema) : fullSchema;
    if (fullSchema)
      blocks.push({ type: 'JSON-SCHEMA', attrs: {}, text: JSON.stringify(fullSchema, null, 2) });
    if (extras.document !== null) {
      const attrs: Record<string, string> = { name: this.document.name };
      if (extras.chunk) attrs['chunk'] = `${extras.chunk.index + 1}/${extras.chunk.total}`;
      blocks.push({ type: 'DOCUMENT', attrs, text: extras.document });
    }
    const prompt: TaskPrompt = {
      kind: extras.kindOverride ?? task.kind,
      taskId: task.id,
      format: task.format,
      chunk: extras.chunk,
      round: extras.round,
      params: values,
      description:
        substitute(task.description, values) + (extras.note ? `\n\nManager's note: ${extras.note}` : ''),
      expectedOutput: substitute(task.expectedOutput, values),
      blocks,
      footer:
        task.format === 'json'
          ? 'Answer with one JSON value only (no prose, no code fence)' +
            (schema
              ? ' that conforms to the JSON-SCHEMA block; use null for what the document does not say.'
              : '.')
          : undefined,
    };
    const messages = buildMessages(
      {
        agentId: agent.id,
        role: substitute(agent.role, values),
        goal: substitute(agent.goal, values),
        instructions: substitute(agent.instructions, values),
      },
      prompt,
    );
    const step = extras.step ?? task.id;
    const what = `agent "${agent.id}" on task "${step}"`;
    const text = await this.call(agent.id, messages, what);
    if (task.format !== 'json') {
      this.stepDone(step);
      return { text };
    }
    let problems = jsonProblems(text, schema);
    if (problems.problems.length === 0) {
      this.stepDone(step);
      return { text, json: problems.value };
    }
    const retry = [
      ...messages,
      new AIMessage(text),
      new HumanMessage(
        `Your answer was rejected:\n${problems.problems.map((p) => `- ${p}`).join('\n')}\n\nAnswer again with the corrected JSON only.`,
      ),
    ];
    const second = await this.call(agent.id, retry, `${what} (JSON retry)`);
    problems = jsonProblems(second, schema);
    if (problems.problems.length > 0) {
      throw new EngineError(
        'permanent',
        'invalid_output',
        `${what}: the model's JSON is still invalid after one retry: ${problems.problems.join('; ')}`,
        { details: problems.problems },
      );
    }
    this.stepDone(step);
    return { text: second, json: problems.value };
  }

  result(output: TaskOutput, startedAt: number, chunks: number): CrewRunResult {
    const usage = Object.values(this.perAgent).reduce(
      (acc, a) => ({
        inputTokens: acc.inputTokens + a.inputTokens,
        outputTokens: acc.outputTokens + a.outputTokens,
        totalTokens: acc.totalTokens + a.inputTokens + a.outputTokens,
      }),
      { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    );
    const cost = estimateCost([...this.costLines.values()], this.options.prices);
    const result: CrewRunResult = {
      output:
        output.json === undefined
          ? output.text.trim()
          : `\`\`\`json\n${JSON.stringify(output.json, null, 2)}\n\`\`\``,
      agentsRun: [...this.agentsRun],
      models: [...this.costLines.keys()],
      usage,
      perAgent: this.perAgent,
      calls: this.calls,
      toolCalls: this.toolCalls,
      durationMs: Date.now() - startedAt,
      costEstimateUsd: cost.usd,
      usageEstimated: this.usageEstimated,
      chunks,
      notes: this.notes,
    };
    if (output.json !== undefined) result.json = output.json;
    if (cost.note) result.costNote = cost.note;
    return result;
  }
}

/** The schema with null allowed for every typed or enumerated value (a chunk may not mention a field). */
function nullable(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    out.type = types.includes('null') ? types : [...types, 'null'];
  }
  if (schema.enum && !schema.enum.includes(null)) out.enum = [...schema.enum, null];
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, nullable(v)]));
  }
  if (schema.items) out.items = nullable(schema.items);
  return out;
}

function jsonProblems(
  text: string,
  schema: Parameters<typeof validateJson>[1] | undefined,
): { value?: unknown; problems: string[] } {
  const parsed = parseJsonAnswer(text);
  if (!parsed) return { problems: ['the answer is not valid JSON'] };
  return { value: parsed.value, problems: schema ? validateJson(parsed.value, schema) : [] };
}

function numberField(value: unknown, ...keys: string[]): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const key of keys) {
    const n = (value as Record<string, unknown>)[key];
    if (typeof n === 'number') return n;
  }
  return undefined;
}

/** Usage as the provider reported it: `usage_metadata`, or OpenAI-style `tokenUsage` / `usage` metadata. */
export function reportedUsage(message: AIMessage): { inputTokens: number; outputTokens: number } | undefined {
  const meta = message.usage_metadata;
  if (meta && meta.input_tokens + meta.output_tokens > 0) {
    return { inputTokens: meta.input_tokens, outputTokens: meta.output_tokens };
  }
  for (const source of [message.response_metadata?.['tokenUsage'], message.response_metadata?.['usage']]) {
    const input = numberField(source, 'promptTokens', 'prompt_tokens', 'input_tokens');
    const output = numberField(source, 'completionTokens', 'completion_tokens', 'output_tokens');
    if (input !== undefined && output !== undefined) return { inputTokens: input, outputTokens: output };
  }
  return undefined;
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      promise.catch(() => undefined);
      reject(signal.reason);
      return;
    }
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Runs a crew on one document. The crew is validated again (it may have been built in code), the parameters
 * are checked, the document is split into chunks for map-reduce crews, and the process runs as a LangGraph
 * StateGraph. Failures are EngineErrors: `retryable`, `permanent` or `cancelled` (see ../errors.ts).
 */
export async function runCrew(input: CrewRunInput, options: CrewRunOptions): Promise<CrewRunResult> {
  const startedAt = Date.now();
  const crew = validateCrew(input.crew);
  const run = new CrewRun(crew, input.document, input.params, options);
  run.throwIfCancelled();
  const chunkTokens = options.chunkTokens ?? DEFAULT_CHUNK_TOKENS;
  const process = crew.process;
  try {
    switch (process.type) {
      case 'sequential':
        noteLongDocument(run, chunkTokens);
        return run.result(await runSequential(run, process), startedAt, 1);
      case 'hierarchical':
        noteLongDocument(run, chunkTokens);
        return run.result(await runHierarchical(run, process), startedAt, 1);
      case 'map-reduce': {
        // Overlap helps a reduce task that reads every chunk; concatenated outputs would repeat it. It never
        // exceeds half a chunk (the default is 10% of a chunk, at most 200 tokens).
        const wanted =
          process.reduce === undefined && process.combine === 'concat'
            ? 0
            : (options.chunkOverlapTokens ??
              Math.min(DEFAULT_CHUNK_OVERLAP_TOKENS, Math.floor(chunkTokens / 10)));
        const overlap = Math.max(0, Math.min(wanted, Math.floor(chunkTokens / 2)));
        const chunks = splitByTokens(input.document.text, chunkTokens, overlap);
        if (chunks.length === 0) chunks.push('');
        return run.result(await runMapReduce(run, process, chunks), startedAt, chunks.length);
      }
    }
  } catch (error) {
    if (options.signal?.aborted) throw EngineError.cancelled(options.signal.reason);
    if (error instanceof EngineError) throw error;
    // Several map tasks failing in one LangGraph step arrive together.
    if (error instanceof AggregateError) {
      const first = error.errors.find((e): e is EngineError => e instanceof EngineError);
      if (first) throw first;
    }
    throw classifyModelError(error, `crew "${crew.name}"`);
  }
}

function noteLongDocument(run: CrewRun, chunkTokens: number): void {
  const tokens = countTokens(run.document.text);
  if (tokens > chunkTokens) {
    run.notes.push(
      `The document has ${tokens} tokens (more than chunkTokens ${chunkTokens}); a ${run.crew.process.type} crew sends it whole to every task.`,
    );
  }
}
