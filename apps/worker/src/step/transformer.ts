/** What the worker asks of the agent engine for one input. */
export interface TransformInput {
  name: string;
  text: string;
}

export interface TransformResult {
  /** Markdown. */
  output: string;
  json?: unknown;
  agentsRun: string[];
  models: string[];
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
  calls: number;
  durationMs: number;
  costEstimateUsd: number;
  costNote?: string;
}

export interface Transformer {
  /** True when the crew reduces partial results (map-reduce): only then can a document be run in pieces. */
  readonly reducible: boolean;
  transform(
    input: TransformInput,
    onProgress: (completed: number, total: number, step: string) => void,
    signal: AbortSignal,
  ): Promise<TransformResult>;
}
