/**
 * The user-details service: profile, plan, subscription status and quotas of each user, set up once per user
 * from `identity.user.registered` (JetStream, durable consumer).
 */
export const UserDetailsSubjects = {
  healthCheck: 'user-details.health.check',
  get: 'user-details.details.get',
  update: 'user-details.details.update',
  /** Plan, subscription status and quota: platform administrators (billing) only; the gateway checks. */
  setSubscription: 'user-details.subscription.set',
} as const;

/** The durable JetStream consumer of user-details on the IDENTITY_EVENTS stream. */
export const USER_DETAILS_CONSUMER = 'user-details';

export const PLANS = ['free', 'pro', 'team'] as const;
export type Plan = (typeof PLANS)[number];

export const SUBSCRIPTION_STATUSES = ['none', 'trialing', 'active', 'past_due', 'canceled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const SETUP_STATUSES = ['pending_team', 'complete'] as const;
export type SetupStatus = (typeof SETUP_STATUSES)[number];

export interface Quota {
  maxDocuments: number;
  maxStorageBytes: number;
  maxJobsPerDay: number;
}

/**
 * What each plan allows: the quota a user gets at setup (user-details' eligibility rules), the one place these
 * numbers live. Billing/admins may change a user's quota later (`user-details.subscription.set`).
 */
export const PLAN_QUOTAS: Readonly<Record<Plan, Readonly<Quota>>> = {
  free: { maxDocuments: 100, maxStorageBytes: 1024 ** 3, maxJobsPerDay: 20 },
  pro: { maxDocuments: 1_000, maxStorageBytes: 10 * 1024 ** 3, maxJobsPerDay: 200 },
  team: { maxDocuments: 10_000, maxStorageBytes: 100 * 1024 ** 3, maxJobsPerDay: 1_000 },
};

/**
 * The plan whose quota applies to a user user-details has no details for (their setup has not run yet): the
 * services that enforce quotas (users-docs, jobs) use it then, never "unlimited".
 */
export const DEFAULT_PLAN: Plan = 'free';

/** The fields a user may change themselves (PATCH). Plan, subscription and quota are set by billing/admins. */
export interface UserProfile {
  displayName: string;
  bio?: string;
  /** BCP 47 language tag (`en`, `fr-CA`). */
  locale: string;
  /** IANA time zone (`Europe/Paris`). */
  timezone: string;
  avatarUrl?: string;
}

export interface UserDetails extends UserProfile {
  userId: string;
  plan: Plan;
  subscriptionStatus: SubscriptionStatus;
  quota: Quota;
  /** The team created for the user at setup, when their plan gives them one. */
  defaultTeamId?: string;
  setupStatus: SetupStatus;
  createdAt: string;
  updatedAt: string;
}

export interface GetUserDetailsRequest {
  userId: string;
}

/** Only the fields present change; `null` clears an optional field. */
export interface UpdateUserDetailsRequest {
  userId: string;
  displayName?: string;
  bio?: string | null;
  locale?: string;
  timezone?: string;
  avatarUrl?: string | null;
}

/** The limits of a quota field: 0 stops the user from adding more; the upper bounds only catch typos. */
export const QUOTA_LIMITS: Readonly<Record<keyof Quota, { max: number }>> = {
  maxDocuments: { max: 100_000_000 },
  maxStorageBytes: { max: 1024 ** 5 },
  maxJobsPerDay: { max: 10_000_000 },
};

/** What an administrator changes: only the fields present (and, in `quota`, only the limits present). */
export interface SetSubscriptionRequest {
  userId: string;
  plan?: Plan;
  subscriptionStatus?: SubscriptionStatus;
  quota?: Partial<Quota>;
}

/**
 * Served by identity (teams live there): creates the user's default team, or returns the one already created
 * for that user. It must be idempotent on `userId`, because user-details retries it until it gets an answer.
 */
export const IdentityTeamSubjects = {
  createDefault: 'identity.team.create-default',
} as const;

export interface CreateDefaultTeamRequest {
  userId: string;
  name: string;
}

export interface CreateDefaultTeamReply {
  teamId: string;
}
