/** USD per 1M tokens, input and output, as published by the vendors (checked 2026-11; update when they change). */
export interface ModelPrice {
  input: number;
  output: number;
}

export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
};

/** Providers that cost nothing per token (they run on the machine or on the caller's own hardware). */
const FREE_PROVIDERS = new Set(['offline', 'ollama', 'vllm']);

export interface CostLine {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

export function estimateCost(
  lines: CostLine[],
  prices: Readonly<Record<string, ModelPrice>> = DEFAULT_PRICES,
): { usd: number; note?: string } {
  let usd = 0;
  const unknown = new Set<string>();
  for (const line of lines) {
    if (FREE_PROVIDERS.has(line.provider)) continue;
    const price = prices[line.model] ?? prices[line.model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
    if (!price) {
      unknown.add(`${line.provider}:${line.model}`);
      continue;
    }
    usd += (line.inputTokens * price.input + line.outputTokens * price.output) / 1_000_000;
  }
  const rounded = Math.round(usd * 1_000_000) / 1_000_000;
  return unknown.size === 0
    ? { usd: rounded }
    : { usd: rounded, note: `no price known for ${[...unknown].join(', ')}; counted as 0` };
}
