import { randomUUID } from 'node:crypto';
import { DomainError, type FieldError } from '@docflow/contracts';
import { checkDocuments, checkJobSpec } from './schedule-spec';

function rejectedField(check: () => unknown): string {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return ((error as DomainError).details as FieldError[])[0]!.field;
  }
  throw new Error('accepted');
}

describe(checkJobSpec.name, () => {
  it('defaults like POST /jobs and keeps the options a job takes, api key included', () => {
    const keyId = randomUUID().toUpperCase();
    expect(checkJobSpec({})).toEqual({ crew: 'summarize', strategy: 'individual', options: {} });
    expect(
      checkJobSpec({
        crew: 'translate',
        strategy: 'combined',
        options: { params: { targetLanguage: 'French' }, apiKeyId: keyId },
      }),
    ).toEqual({
      crew: 'translate',
      strategy: 'combined',
      options: { params: { targetLanguage: 'French' }, apiKeyId: keyId.toLowerCase() },
    });
  });

  it('names the field of each problem', () => {
    expect(rejectedField(() => checkJobSpec({ crew: 'nonesuch' }))).toBe('crew');
    expect(rejectedField(() => checkJobSpec({ crew: 'translate' }))).toBe('options.params.targetLanguage');
    expect(rejectedField(() => checkJobSpec({ flowId: randomUUID() }))).toBe('flowId');
    expect(rejectedField(() => checkJobSpec({ options: { apiKeyId: 'key-1' } }))).toBe('options.apiKeyId');
    expect(rejectedField(() => checkJobSpec({ options: { batchSize: 5 } }))).toBe('options.batchSize');
    expect(rejectedField(() => checkJobSpec({ strategy: 'object', options: { batchSize: 101 } }))).toBe(
      'options.batchSize',
    );
  });

  it("keeps an object job's batch size for every run, and only when given", () => {
    expect(checkJobSpec({ strategy: 'object', options: { batchSize: 25 } })).toEqual({
      crew: 'summarize',
      strategy: 'object',
      options: { batchSize: 25 },
    });
    expect(checkJobSpec({ strategy: 'object' }).options).toEqual({});
  });
});

describe(checkDocuments.name, () => {
  it('takes ids (unique, lower case) or a filter (kind upload unless given)', () => {
    const id = randomUUID();
    expect(checkDocuments({ docIds: [id.toUpperCase(), id] }, 10)).toEqual({ docIds: [id] });
    expect(checkDocuments({ filter: { contentType: 'Text/*' } }, 10)).toEqual({
      filter: { kind: 'upload', contentType: 'text/*' },
    });
  });

  it('names the field of each problem', () => {
    expect(rejectedField(() => checkDocuments({}, 10))).toBe('documents');
    expect(rejectedField(() => checkDocuments({ docIds: [randomUUID()], filter: {} }, 10))).toBe('documents');
    expect(rejectedField(() => checkDocuments({ docIds: [] }, 10))).toBe('documents.docIds');
    expect(rejectedField(() => checkDocuments({ docIds: [randomUUID(), randomUUID()] }, 1))).toBe(
      'documents.docIds',
    );
    expect(rejectedField(() => checkDocuments({ filter: { contentType: 'text' } }, 10))).toBe(
      'documents.filter.contentType',
    );
  });
});
