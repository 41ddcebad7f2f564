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
});
