import {
  DomainError,
  OBJECT_BATCH_SIZE_DEFAULT,
  OBJECT_BATCH_SIZE_MAX,
  OBJECT_BATCH_SIZE_MIN,
  type JobStrategy,
} from '@docflow/contracts';

/**
 * How many documents form one input of a job: `options.batchSize` for `object` (10 unless given), none for the
 * other strategies, which refuse it. Each problem is a VALIDATION_FAILED naming `options.batchSize`.
 */
export function objectBatchSize(strategy: JobStrategy | undefined, batchSize: unknown): number | null {
  if (batchSize === undefined || batchSize === null)
    return strategy === 'object' ? OBJECT_BATCH_SIZE_DEFAULT : null;
  if (strategy !== 'object')
    throw DomainError.validation('options.batchSize', 'is only allowed with strategy object');
  if (
    typeof batchSize !== 'number' ||
    !Number.isInteger(batchSize) ||
    batchSize < OBJECT_BATCH_SIZE_MIN ||
    batchSize > OBJECT_BATCH_SIZE_MAX
  )
    throw DomainError.validation(
      'options.batchSize',
      `must be an integer from ${OBJECT_BATCH_SIZE_MIN} to ${OBJECT_BATCH_SIZE_MAX}`,
    );
  return batchSize;
}

/**
 * The inputs of an `object` job: the documents in request order (repeats already dropped), cut into consecutive
 * groups of `batchSize`, the last one holding the rest; input `batch-<n>` is the n-th group, counted from 0.
 */
export function objectInputs(
  docIds: string[],
  batchSize: number,
): { inputId: string; docIds: string[]; name: string }[] {
  const inputs: { inputId: string; docIds: string[]; name: string }[] = [];
  for (let start = 0; start < docIds.length; start += batchSize) {
    const n = inputs.length;
    inputs.push({
      inputId: `batch-${n}`,
      docIds: docIds.slice(start, start + batchSize),
      name: `batch-${n}`,
    });
  }
  return inputs;
}
