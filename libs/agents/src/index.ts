export { EngineError, classifyModelError, ENGINE_ERROR_CODES } from './errors';
export type { EngineErrorKind, EngineErrorCode } from './errors';
export { crewSchema, TASK_KINDS, MAX_TOOL_ROUNDS_LIMIT } from './crew/crew.schema';
export type {
  CrewDefinition,
  CrewInput,
  AgentDefinition,
  TaskDefinition,
  ParamDefinition,
  ProcessDefinition,
  TaskKind,
} from './crew/crew.schema';
export { parseCrew, validateCrew } from './crew/parse-crew';
export { BUILTIN_CREW_NAMES, loadBuiltinCrew, builtinCrewSource, isBuiltinCrewName } from './crew/builtin';
export type { BuiltinCrewName } from './crew/builtin';
export {
  runCrew,
  DEFAULT_CHUNK_TOKENS,
  DEFAULT_CHUNK_OVERLAP_TOKENS,
  DEFAULT_CONCURRENCY,
} from './engine/run-crew';
export type {
  CrewRunInput,
  CrewRunOptions,
  CrewRunResult,
  ProgressEvent,
  AgentUsage,
  TokenUsage,
} from './engine/run-crew';
export { DEFAULT_MAX_TOOL_ROUNDS } from './engine/tool-calls';
export { DEFAULT_PRICES, estimateCost } from './engine/pricing';
export type { ModelPrice } from './engine/pricing';
export { splitByTokens, countTokens } from './text/tokens';
export { OfflineChatModel, OFFLINE_TRANSLATION_MARKER } from './providers/offline';
export { createModelFactory, OPENAI_COMPATIBLE_PROVIDERS } from './providers/model-factory';
export type { ModelFactory, ModelSpec, ModelFactoryOptions } from './providers/model-factory';
export type { JsonSchema } from './json-schema/json-schema';
// Agent tools: what a crew may list under `agents[].tools`, built per run.
export * from './tools';
// The OpenAI-compatible provider (written separately); callers wrap it into `createModelFactory({ openai })`.
export { createOpenAiChatModel } from './providers/openai';
export type { OpenAiModelSpec, OpenAiConnection } from './providers/openai';
