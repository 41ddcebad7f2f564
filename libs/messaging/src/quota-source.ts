import {
  DEFAULT_PLAN,
  DomainError,
  ErrorCode,
  PLAN_QUOTAS,
  UserDetailsSubjects,
  type Plan,
  type Quota,
  type UserDetails,
} from '@docflow/contracts';
import { ServiceClient } from './service-client';

/** A user's quota and the plan it comes with, as the services that enforce it see it. */
export interface UserQuota {
  plan: Plan;
  quota: Quota;
  /** `details`: user-details' record; `default`: user-details has none yet (the default plan's quota). */
  source: 'details' | 'default';
  /** True when served from the cache (a refusal asks again with `fresh`). */
  cached: boolean;
}

export interface QuotaSourceOptions {
  /** How long an answer is reused (0: never); a few seconds spares user-details one request per create. */
  cacheMs: number;
  /** At most this many users are cached; the oldest entry goes first. */
  maxEntries?: number;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Where users-docs and jobs learn a user's quota: user-details (`user-details.details.get`), cached for
 * `cacheMs`. A user user-details does not know (NOT_FOUND: the setup has not run yet) has the default plan's
 * quota; user-details unreachable is SERVICE_UNAVAILABLE (503), never "unlimited".
 */
export class QuotaSource {
  private readonly cache = new Map<string, { value: UserQuota; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<UserQuota>>();
  private readonly now: () => number;

  constructor(
    private readonly client: ServiceClient,
    private readonly options: QuotaSourceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The user's quota; `fresh` skips the cache (before refusing on a cached value). */
  async get(userId: string, options: { fresh?: boolean } = {}): Promise<UserQuota> {
    const key = userId.toLowerCase();
    if (!options.fresh) {
      const hit = this.cache.get(key);
      if (hit && hit.expiresAt > this.now()) return { ...hit.value, cached: true };
      const pending = this.inFlight.get(key);
      if (pending) return pending;
    }
    const request = this.fetch(key).finally(() => {
      if (this.inFlight.get(key) === request) this.inFlight.delete(key);
    });
    this.inFlight.set(key, request);
    return request;
  }

  private async fetch(userId: string): Promise<UserQuota> {
    let value: UserQuota;
    try {
      const details = await this.client.send<UserDetails>(
        UserDetailsSubjects.get,
        { userId },
        this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {},
      );
      value = { plan: details.plan, quota: { ...details.quota }, source: 'details', cached: false };
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.NOT_FOUND) {
        value = {
          plan: DEFAULT_PLAN,
          quota: { ...PLAN_QUOTAS[DEFAULT_PLAN] },
          source: 'default',
          cached: false,
        };
      } else if (error instanceof DomainError && error.code === ErrorCode.SERVICE_UNAVAILABLE) {
        throw new DomainError(
          ErrorCode.SERVICE_UNAVAILABLE,
          'The quota cannot be checked: the user-details service is unavailable; nothing was created, try again shortly',
        );
      } else {
        throw error;
      }
    }
    if (this.options.cacheMs > 0) {
      this.cache.delete(userId);
      this.cache.set(userId, { value, expiresAt: this.now() + this.options.cacheMs });
      const max = this.options.maxEntries ?? 10_000;
      while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
    }
    return value;
  }
}
