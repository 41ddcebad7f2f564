import { PLAN_QUOTAS, decideSetup, defaultDisplayName, emailDomain } from './eligibility';

describe(decideSetup.name, () => {
  const domains = ['acme.com', 'example.org'];

  it.each([
    ['ada@acme.com', 'team'],
    ['ADA@ACME.COM', 'team'],
    ['ada@eng.acme.com', 'team'],
    ['ada@example.org', 'team'],
    ['ada@notacme.com', 'free'],
    ['ada@acme.com.evil.net', 'free'],
    ['ada@gmail.com', 'free'],
    ['not-an-email', 'free'],
  ])('%s gets the %s plan', (email, plan) => {
    expect(decideSetup({ email, name: 'Ada' }, domains).plan).toBe(plan);
  });

  it('gives a sponsored user an active subscription, the team quota and a default team', () => {
    expect(decideSetup({ email: 'ada@acme.com', name: 'Ada' }, domains)).toEqual({
      plan: 'team',
      subscriptionStatus: 'active',
      quota: PLAN_QUOTAS.team,
      defaultTeamName: "Ada's team",
      reason: 'email domain acme.com is covered by acme.com',
    });
  });

  it('gives everyone else the minimal set: free, no subscription, free quota, no team', () => {
    const sut = decideSetup({ email: 'bob@gmail.com', name: 'Bob' }, domains);
    expect(sut).toEqual({
      plan: 'free',
      subscriptionStatus: 'none',
      quota: PLAN_QUOTAS.free,
      reason: 'no sponsoring domain',
    });
    expect(decideSetup({ email: 'ada@acme.com', name: 'Ada' }, []).plan).toBe('free');
  });

  it('gives the larger plan the larger quota', () => {
    for (const key of ['maxDocuments', 'maxStorageBytes', 'maxJobsPerDay'] as const) {
      expect(PLAN_QUOTAS.team[key]).toBeGreaterThan(PLAN_QUOTAS.free[key]);
    }
  });
});

describe(defaultDisplayName.name, () => {
  it('uses the name, else the local part of the email, without control characters', () => {
    expect(defaultDisplayName({ name: '  Ada\u0007 L. ', email: 'a@b.c' })).toBe('Ada  L.');
    expect(defaultDisplayName({ name: ' ', email: 'ada@b.c' })).toBe('ada');
    expect(emailDomain('a@B.C')).toBe('b.c');
    expect(emailDomain('nope')).toBeUndefined();
  });
});
