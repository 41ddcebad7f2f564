import type { TransformResult, Transformer } from './transformer';

/** Text documents above this size are streamed in pieces instead of being read whole. */
export const IN_MEMORY_TEXT_LIMIT = 8 * 1024 * 1024;
/** Characters per streamed piece: each piece is one run of the crew. */
export const PIECE_CHARS = 1_000_000;

/**
 * A document too large to hold: each streamed piece goes through the crew (which map-reduces it into one
 * result), then one more run reduces the pieces' results. Only meaningful for map-reduce crews: the caller
 * checks `transformer.reducible`. Memory stays around one piece and the pieces' (short) results.
 */
export async function transformLongText(
  pieces: AsyncIterable<string>,
  estimatedPieces: number,
  name: string,
  transformer: Transformer,
  onProgress: (completed: number, total: number, step: string) => void,
  signal: AbortSignal,
): Promise<TransformResult> {
  const started = Date.now();
  const outputs: string[] = [];
  const total = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  const agents = new Set<string>();
  const models = new Set<string>();
  let calls = 0;
  let cost = 0;
  const notes = new Set<string>();
  const add = (out: TransformResult) => {
    total.inputTokens += out.usage.inputTokens;
    total.outputTokens += out.usage.outputTokens;
    total.totalTokens += out.usage.totalTokens;
    out.agentsRun.forEach((a) => agents.add(a));
    out.models.forEach((m) => models.add(m));
    calls += out.calls;
    cost += out.costEstimateUsd;
    if (out.costNote) notes.add(out.costNote);
  };
  let part = 0;
  for await (const piece of pieces) {
    part++;
    const out = await transformer.transform(
      { name: `${name} (part ${part})`, text: piece },
      () => undefined,
      signal,
    );
    add(out);
    outputs.push(`### Part ${part}\n\n${out.output.trim()}`);
    onProgress(part, Math.max(estimatedPieces, part) + 1, `part ${part}`);
  }
  const final = await transformer.transform({ name, text: outputs.join('\n\n') }, () => undefined, signal);
  add(final);
  onProgress(part + 1, part + 1, 'merge');
  return {
    output: final.output,
    ...(final.json !== undefined ? { json: final.json } : {}),
    agentsRun: [...agents],
    models: [...models],
    usage: total,
    calls,
    durationMs: Date.now() - started,
    costEstimateUsd: cost,
    ...(notes.size ? { costNote: [...notes].join('; ') } : {}),
  };
}
