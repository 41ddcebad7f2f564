import { DomainError, type FieldError } from '@docflow/contracts';
import { objectBatchSize, objectInputs } from './object-batch-size';

function rejected(check: () => unknown): FieldError {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return ((error as DomainError).details as FieldError[])[0]!;
  }
  throw new Error('accepted');
}

describe(objectBatchSize.name, () => {
  it('is 10 for object unless given, and none for the other strategies', () => {
    expect(objectBatchSize('object', undefined)).toBe(10);
    expect(objectBatchSize('object', null)).toBe(10);
    expect(objectBatchSize('object', 1)).toBe(1);
    expect(objectBatchSize('object', 100)).toBe(100);
    expect(objectBatchSize(undefined, undefined)).toBeNull();
    expect(objectBatchSize('individual', undefined)).toBeNull();
    expect(objectBatchSize('combined', undefined)).toBeNull();
  });

  it.each([0, 101, -1, 2.5, '5', Number.NaN, Infinity, true, {}])(
    'refuses %p naming options.batchSize',
    (value) => {
      expect(rejected(() => objectBatchSize('object', value))).toEqual({
        field: 'options.batchSize',
        message: 'must be an integer from 1 to 100',
      });
    },
  );

  it.each([undefined, 'individual', 'combined'] as const)('is refused with strategy %p', (strategy) => {
    expect(rejected(() => objectBatchSize(strategy, 10))).toEqual({
      field: 'options.batchSize',
      message: 'is only allowed with strategy object',
    });
  });
});

describe(objectInputs.name, () => {
  const ids = Array.from({ length: 7 }, (_, i) => `doc-${i}`);

  it('cuts the documents, in their order, into consecutive groups of batchSize, the last holding the rest', () => {
    expect(objectInputs(ids, 3)).toEqual([
      { inputId: 'batch-0', name: 'batch-0', docIds: ['doc-0', 'doc-1', 'doc-2'] },
      { inputId: 'batch-1', name: 'batch-1', docIds: ['doc-3', 'doc-4', 'doc-5'] },
      { inputId: 'batch-2', name: 'batch-2', docIds: ['doc-6'] },
    ]);
  });

  it('makes one input per document with 1, and one input of all with a size of at least their number', () => {
    expect(objectInputs(ids, 1).map((i) => i.docIds)).toEqual(ids.map((id) => [id]));
    expect(objectInputs(ids, 7).map((i) => i.docIds)).toEqual([ids]);
    expect(objectInputs(ids, 100).map((i) => i.docIds)).toEqual([ids]);
  });

  it('keeps 10,000 documents in 100 inputs of 100', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `d${i}`);
    const inputs = objectInputs(many, 100);
    expect(inputs).toHaveLength(100);
    expect(inputs.every((i) => i.docIds.length === 100)).toBe(true);
    expect(inputs.flatMap((i) => i.docIds)).toEqual(many);
  });
});
