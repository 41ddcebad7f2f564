import { DomainError, type SetSubscriptionRequest } from '@docflow/contracts';
import { profilePatchFrom, subscriptionPatchFrom } from './profile.validation';

const USER = '0d6f2c1e-5b3a-4e8f-9c7d-1a2b3c4d5e6f';

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return (error.details as { field: string }[] | undefined)?.[0]?.field;
    throw error;
  }
  return undefined;
}

describe(subscriptionPatchFrom.name, () => {
  it('takes the fields sent, and only those', () => {
    expect(
      subscriptionPatchFrom({
        userId: USER,
        plan: 'pro',
        subscriptionStatus: 'active',
        quota: { maxJobsPerDay: 500, maxDocuments: 0 },
      }),
    ).toEqual({ plan: 'pro', subscriptionStatus: 'active', maxJobsPerDay: 500, maxDocuments: 0 });
    expect(subscriptionPatchFrom({ userId: USER, quota: { maxStorageBytes: 1024 ** 4 } })).toEqual({
      maxStorageBytes: 1024 ** 4,
    });
  });

  it.each([
    ['an unknown plan', { plan: 'gold' }, 'plan'],
    ['an unknown status', { subscriptionStatus: 'paused' }, 'subscriptionStatus'],
    ['a quota that is not an object', { quota: 5 }, 'quota'],
    ['an unknown quota field', { quota: { maxPages: 3 } }, 'quota.maxPages'],
    ['a negative limit', { quota: { maxDocuments: -1 } }, 'quota.maxDocuments'],
    ['a fractional limit', { quota: { maxJobsPerDay: 1.5 } }, 'quota.maxJobsPerDay'],
    ['a limit given as text', { quota: { maxJobsPerDay: '10' } }, 'quota.maxJobsPerDay'],
    ['a limit over its bound', { quota: { maxStorageBytes: 1024 ** 5 + 1 } }, 'quota.maxStorageBytes'],
    ['nothing to change', {}, 'body'],
    ['an empty quota', { quota: {} }, 'body'],
  ])('refuses %s, naming the field', (_case, body, field) => {
    const request = { userId: USER, ...body } as unknown as SetSubscriptionRequest;
    expect(fieldOf(() => subscriptionPatchFrom(request))).toBe(field);
  });
});

describe(profilePatchFrom.name, () => {
  it('never reads billing fields, whatever the request holds', () => {
    const request = { userId: USER, displayName: 'Ada', plan: 'team', quota: { maxDocuments: 1e6 } };
    expect(profilePatchFrom(request as never)).toEqual({ displayName: 'Ada' });
  });
});
