import { DomainError, type FieldError, type ListJobsRequest } from '@docflow/contracts';
import { jobListFilters } from './job-list-filters';

function rejected(request: Partial<ListJobsRequest>): FieldError[] {
  try {
    jobListFilters(request as ListJobsRequest);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('VALIDATION_FAILED');
    return (error as DomainError).details as FieldError[];
  }
  throw new Error('accepted');
}

const DOC = '0B6C5C9E-7A51-4C1E-9F0E-3D2A1B4C5D6E';

describe(jobListFilters.name, () => {
  it('leaves out what is not given', () => {
    expect(jobListFilters({})).toEqual({});
    expect(jobListFilters({ status: undefined, crew: undefined, docId: undefined })).toEqual({});
  });

  it('reads each filter: one status or several (repeats dropped), the crew, the strategy, instants, a document id in lower case', () => {
    expect(jobListFilters({ status: 'running' })).toEqual({ statuses: ['running'] });
    expect(jobListFilters({ status: ['queued', 'running', 'queued'] })).toEqual({
      statuses: ['queued', 'running'],
    });
    expect(
      jobListFilters({
        crew: 'translate',
        strategy: 'object',
        createdAfter: '2026-01-31T10:00:00+01:00',
        createdBefore: '2026-02-01T00:00:00Z',
        docId: DOC,
      }),
    ).toEqual({
      crew: 'translate',
      strategy: 'object',
      createdAfter: new Date('2026-01-31T09:00:00Z'),
      createdBefore: new Date('2026-02-01T00:00:00Z'),
      docId: DOC.toLowerCase(),
    });
  });

  it('takes createdAfter equal to createdBefore (an empty window), not later', () => {
    const at = '2026-01-31T00:00:00Z';
    expect(jobListFilters({ createdAfter: at, createdBefore: at }).createdAfter).toEqual(new Date(at));
    expect(rejected({ createdAfter: '2026-01-31T00:00:00.001Z', createdBefore: at })).toEqual([
      { field: 'createdAfter', message: 'must not be later than createdBefore' },
    ]);
  });

  it.each([
    ['status', { status: 'done' }],
    ['status', { status: ['running', 'done'] }],
    ['status', { status: [] }],
    ['status', { status: 'queued,running' }],
    ['status', { status: 3 }],
    ['crew', { crew: 'Summarize' }],
    ['crew', { crew: '' }],
    ['crew', { crew: ['summarize'] }],
    ['strategy', { strategy: 'all' }],
    ['createdAfter', { createdAfter: '2026-01-31' }],
    ['createdAfter', { createdAfter: '2026-02-30T00:00:00Z' }],
    ['createdBefore', { createdBefore: 'yesterday' }],
    ['createdBefore', { createdBefore: 1769817600000 }],
    ['docId', { docId: 'doc-1' }],
    ['docId', { docId: [DOC] }],
  ])('refuses a bad %s naming it', (field, request) => {
    expect(rejected(request as Partial<ListJobsRequest>).map((d) => d.field)).toEqual([field]);
  });
});
