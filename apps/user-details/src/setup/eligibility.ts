import {
  PLAN_QUOTAS,
  type Plan,
  type Quota,
  type SubscriptionStatus,
  type UserRegisteredEvent,
} from '@docflow/contracts';

/** What each plan allows: defined once in libs/contracts (users-docs and jobs enforce the same defaults). */
export { PLAN_QUOTAS };

/** What the new-user setup creates for one user. */
export interface SetupDecision {
  plan: Plan;
  subscriptionStatus: SubscriptionStatus;
  quota: Quota;
  /** Present when the user gets a default team (created by identity). */
  defaultTeamName?: string;
  /** Why, in a few words, for the logs. */
  reason: string;
}

/** The domain of an email address, lower case; undefined when there is none. */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  return at > 0 && at < email.length - 1 ? email.slice(at + 1).toLowerCase() : undefined;
}

/**
 * The eligibility rules (docs/user-details.md):
 * - an email whose domain is one of `teamPlanDomains`, or a subdomain of one, belongs to an organisation that
 *   pays for docflow: plan `team`, subscription `active`, the team quota, and a default team named after the user;
 * - anyone else gets the minimal set: plan `free`, subscription `none`, the free quota, no team.
 */
export function decideSetup(
  event: Pick<UserRegisteredEvent, 'email' | 'name'>,
  teamPlanDomains: string[],
): SetupDecision {
  const domain = emailDomain(event.email);
  const sponsor = domain && teamPlanDomains.find((d) => domain === d || domain.endsWith(`.${d}`));
  if (sponsor) {
    return {
      plan: 'team',
      subscriptionStatus: 'active',
      quota: { ...PLAN_QUOTAS.team },
      defaultTeamName: `${defaultDisplayName(event).slice(0, 90)}'s team`,
      reason: `email domain ${domain} is covered by ${sponsor}`,
    };
  }
  return {
    plan: 'free',
    subscriptionStatus: 'none',
    quota: { ...PLAN_QUOTAS.free },
    reason: 'no sponsoring domain',
  };
}

/** The display name a new user starts with: their name, else the part of their email before the @. */
export function defaultDisplayName(event: Pick<UserRegisteredEvent, 'email' | 'name'>): string {
  const name = event.name
    .replace(/\p{Cc}/gu, ' ')
    .trim()
    .slice(0, 100);
  return name || event.email.split('@')[0]!.slice(0, 100) || 'user';
}
