import {
  DomainError,
  PLANS,
  QUOTA_LIMITS,
  SUBSCRIPTION_STATUSES,
  type Quota,
  type SetSubscriptionRequest,
  type UpdateUserDetailsRequest,
} from '@docflow/contracts';
import type { ProfilePatch, SubscriptionPatch } from './user-details.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function requireUserId(value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value))
    throw DomainError.validation('userId', 'must be a UUID');
  return value.toLowerCase();
}

/** A BCP 47 language tag that Intl knows (`en`, `fr-CA`), canonicalised. */
export function canonicalLocale(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 35 || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(value))
    return undefined;
  try {
    return Intl.getCanonicalLocales(value)[0];
  } catch {
    return undefined;
  }
}

/** An IANA time zone that Intl knows, in its canonical spelling (`europe/paris` → `Europe/Paris`). */
export function canonicalTimeZone(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

function text(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string') throw DomainError.validation(field, 'must be a string');
  if (value.length > max) throw DomainError.validation(field, `must be at most ${max} characters`);
  return value;
}

/**
 * The profile fields of an update, checked. Anything else in the request (plan, subscription, quota) is not
 * read: those are set by billing and platform administrators.
 */
export function profilePatchFrom(request: UpdateUserDetailsRequest): ProfilePatch {
  const patch: ProfilePatch = {};
  if (request.displayName !== undefined) {
    const name = text('displayName', request.displayName, 100).trim();
    if (!name) throw DomainError.validation('displayName', 'must not be blank');
    if (/\p{Cc}/u.test(name))
      throw DomainError.validation('displayName', 'must not contain control characters');
    patch.displayName = name;
  }
  if (request.bio !== undefined) patch.bio = request.bio === null ? null : text('bio', request.bio, 1000);
  if (request.locale !== undefined) {
    const locale = canonicalLocale(request.locale);
    if (!locale) throw DomainError.validation('locale', 'must be a BCP 47 language tag such as en or fr-CA');
    patch.locale = locale;
  }
  if (request.timezone !== undefined) {
    const timezone = canonicalTimeZone(request.timezone);
    if (!timezone) throw DomainError.validation('timezone', 'must be an IANA time zone such as Europe/Paris');
    patch.timezone = timezone;
  }
  if (request.avatarUrl !== undefined) {
    if (request.avatarUrl === null) patch.avatarUrl = null;
    else {
      const raw = text('avatarUrl', request.avatarUrl, 2048);
      let url: URL | undefined;
      try {
        url = new URL(raw);
      } catch {
        url = undefined;
      }
      if (url?.protocol !== 'https:') throw DomainError.validation('avatarUrl', 'must be an https URL');
      patch.avatarUrl = raw;
    }
  }
  return patch;
}

/**
 * The billing fields of an administrator's change, checked: `plan` and `subscriptionStatus` from their lists,
 * each quota limit a whole number from 0 to its bound. At least one field must be sent.
 */
export function subscriptionPatchFrom(request: SetSubscriptionRequest): SubscriptionPatch {
  const patch: SubscriptionPatch = {};
  if (request.plan !== undefined) {
    if (!(PLANS as readonly unknown[]).includes(request.plan))
      throw DomainError.validation('plan', `must be one of ${PLANS.join(', ')}`);
    patch.plan = request.plan;
  }
  if (request.subscriptionStatus !== undefined) {
    if (!(SUBSCRIPTION_STATUSES as readonly unknown[]).includes(request.subscriptionStatus))
      throw DomainError.validation(
        'subscriptionStatus',
        `must be one of ${SUBSCRIPTION_STATUSES.join(', ')}`,
      );
    patch.subscriptionStatus = request.subscriptionStatus;
  }
  if (request.quota !== undefined) {
    if (typeof request.quota !== 'object' || request.quota === null || Array.isArray(request.quota))
      throw DomainError.validation('quota', 'must be an object');
    for (const field of Object.keys(request.quota)) {
      if (!(field in QUOTA_LIMITS))
        throw DomainError.validation(
          `quota.${field}`,
          `is not a quota (${Object.keys(QUOTA_LIMITS).join(', ')})`,
        );
    }
    for (const [field, { max }] of Object.entries(QUOTA_LIMITS) as [keyof Quota, { max: number }][]) {
      const value = request.quota[field];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max)
        throw DomainError.validation(`quota.${field}`, `must be a whole number from 0 to ${max}`);
      patch[field] = value;
    }
  }
  if (Object.keys(patch).length === 0)
    throw DomainError.validation('body', 'send at least one of plan, subscriptionStatus, quota');
  return patch;
}
