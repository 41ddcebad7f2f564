import { jobRequestHash } from './job-request-hash';

describe(jobRequestHash.name, () => {
  const A = '0b6c5c9e-7a51-4c1e-9f0e-3d2a1b4c5d6e';
  const B = '9e8d7c6b-5a49-4382-a716-0f1e2d3c4b5a';
  const base = { userId: 'u', docIds: [A, B] };

  it('is the same for the same request however it is written', () => {
    const sut = jobRequestHash(base);
    expect(sut).toMatch(/^[0-9a-f]{64}$/);
    expect(
      jobRequestHash({ ...base, docIds: [A.toUpperCase(), B, A], idempotencyKey: 'k', userId: 'v' }),
    ).toBe(sut);
    // The defaults are what an omitted crew or strategy means.
    expect(jobRequestHash({ ...base, crew: 'summarize', strategy: 'individual', options: {} })).toBe(sut);
    expect(
      jobRequestHash({
        ...base,
        crew: 'translate',
        options: { params: { targetLanguage: 'de', tone: 'x' } },
      }),
    ).toBe(
      jobRequestHash({
        ...base,
        crew: 'translate',
        options: { params: { tone: 'x', targetLanguage: 'de' } },
      }),
    );
  });

  it.each([
    ['documents', { docIds: [A] }],
    ['the order of the documents', { docIds: [B, A] }],
    ['the crew', { crew: 'translate' }],
    ['the strategy', { strategy: 'combined' as const }],
    ['a parameter', { options: { params: { targetLanguage: 'de' } } }],
    ['the model', { options: { model: { provider: 'openai', model: 'gpt' } } }],
    ['the provider key', { options: { apiKeyId: A } }],
  ])('differs when %s differ', (_what, change) => {
    expect(jobRequestHash({ ...base, ...change })).not.toBe(jobRequestHash(base));
  });

  describe("an object job's batch size", () => {
    const object = { ...base, strategy: 'object' as const };

    it('counts when it is not the default', () => {
      expect(jobRequestHash({ ...object, options: { batchSize: 5 } })).not.toBe(jobRequestHash(object));
      expect(jobRequestHash({ ...object, options: { batchSize: 5 } })).not.toBe(
        jobRequestHash({ ...object, options: { batchSize: 6 } }),
      );
    });

    it('spelled out as the default (10) is the same request, and keeps the hash jobs were recorded with before', () => {
      expect(jobRequestHash({ ...object, options: { batchSize: 10 } })).toBe(jobRequestHash(object));
      // This request's hash as computed before `batchSize` existed: a retry with the same key finds its job.
      expect(jobRequestHash(object)).toBe('1bf8a1b52d0bd7a91ccc186a64efcd299519ce5fb90fcd32d365c8892fa64f4b');
    });
  });
});
