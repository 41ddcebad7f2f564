import { createHash } from 'node:crypto';
import { OBJECT_BATCH_SIZE_DEFAULT, type CreateJobRequest } from '@docflow/contracts';

/** A JSON text with object keys sorted at every level, so equal values give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * SHA-256 (hex) of what a job request asks for, normalized as the job is created: document ids in lower case
 * without repeats (their order kept: it orders the inputs and a combined document), the crew and strategy with
 * their defaults, and the options (parameters, model, provider key id in lower case, an `object` batch size other than the default). Two requests with the same
 * Idempotency-Key must have the same hash; the key itself, the user and how JSON was written do not count.
 */
export function jobRequestHash(request: CreateJobRequest): string {
  const options = request.options ?? {};
  const normalized = {
    docIds: [...new Set(request.docIds.map((id) => id.toLowerCase()))],
    crew: request.crew ?? 'summarize',
    flowId: request.flowId?.toLowerCase() ?? null,
    strategy: request.strategy ?? 'individual',
    options: {
      params: options.params ?? {},
      model: options.model ?? null,
      apiKeyId: options.apiKeyId?.toLowerCase() ?? null,
      // Only a batch size other than the default counts: spelling out the default asks for the same job, and the
      // hashes kept on jobs from before `batchSize` existed stay what they were.
      batchSize: options.batchSize === OBJECT_BATCH_SIZE_DEFAULT ? undefined : options.batchSize,
    },
  };
  return createHash('sha256').update(canonical(normalized)).digest('hex');
}
