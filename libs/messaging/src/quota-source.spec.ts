import { DomainError, ErrorCode, PLAN_QUOTAS, UserDetailsSubjects } from '@docflow/contracts';
import { QuotaSource } from './quota-source';
import { ServiceClient, type SendOptions } from './service-client';

class FakeClient extends ServiceClient {
  calls: { subject: string; payload: unknown }[] = [];
  answer: () => unknown = () => ({ plan: 'pro', quota: { ...PLAN_QUOTAS.pro } });
  async send<T>(subject: string, payload: unknown, _options?: SendOptions): Promise<T> {
    this.calls.push({ subject, payload });
    await Promise.resolve();
    return this.answer() as T;
  }
  isConnected(): boolean {
    return true;
  }
}

describe(QuotaSource.name, () => {
  let client: FakeClient;
  let now: number;
  let sut: QuotaSource;

  beforeEach(() => {
    client = new FakeClient();
    now = 1_000_000;
    sut = new QuotaSource(client, { cacheMs: 5_000, now: () => now });
  });

  it("asks user-details for the user's details and answers their plan and quota", async () => {
    const quota = await sut.get('ABC');
    expect(quota).toEqual({ plan: 'pro', quota: PLAN_QUOTAS.pro, source: 'details', cached: false });
    expect(client.calls).toEqual([{ subject: UserDetailsSubjects.get, payload: { userId: 'abc' } }]);
  });

  it('reuses an answer for cacheMs, and asks again after, or when asked for a fresh one', async () => {
    await sut.get('u');
    expect((await sut.get('u')).cached).toBe(true);
    expect(client.calls).toHaveLength(1);
    expect((await sut.get('u', { fresh: true })).cached).toBe(false);
    expect(client.calls).toHaveLength(2);
    now += 5_001;
    await sut.get('u');
    expect(client.calls).toHaveLength(3);
  });

  it('asks once for concurrent requests of the same user', async () => {
    await Promise.all([sut.get('u'), sut.get('u'), sut.get('u')]);
    expect(client.calls).toHaveLength(1);
  });

  it('never caches with cacheMs 0', async () => {
    sut = new QuotaSource(client, { cacheMs: 0 });
    await sut.get('u');
    await sut.get('u');
    expect(client.calls).toHaveLength(2);
  });

  it('gives a user user-details does not know (setup not run yet) the default free quota', async () => {
    client.answer = () => {
      throw DomainError.notFound('user details');
    };
    expect(await sut.get('u')).toEqual({
      plan: 'free',
      quota: { maxDocuments: 100, maxStorageBytes: 1024 ** 3, maxJobsPerDay: 20 },
      source: 'default',
      cached: false,
    });
  });

  it('answers SERVICE_UNAVAILABLE, never a quota, when user-details does not answer', async () => {
    client.answer = () => {
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'The user-details service is unavailable');
    };
    await expect(sut.get('u')).rejects.toMatchObject({
      code: ErrorCode.SERVICE_UNAVAILABLE,
      message: expect.stringMatching(/^The quota cannot be checked: the user-details service is unavailable/),
    });
    // Not cached: the next request asks again.
    client.answer = () => ({ plan: 'free', quota: PLAN_QUOTAS.free });
    expect((await sut.get('u')).source).toBe('details');
  });

  it('passes any other refusal on', async () => {
    client.answer = () => {
      throw DomainError.validation('userId', 'must be a UUID');
    };
    await expect(sut.get('u')).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
  });

  it('keeps at most maxEntries users', async () => {
    sut = new QuotaSource(client, { cacheMs: 5_000, maxEntries: 2, now: () => now });
    for (const id of ['a', 'b', 'c']) await sut.get(id);
    await sut.get('a');
    expect(client.calls.map((c) => (c.payload as { userId: string }).userId)).toEqual(['a', 'b', 'c', 'a']);
  });
});
