import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError } from '@docflow/contracts';
import { IDENTITY_CONFIG, type IdentityConfig, type RateLimitRule } from '../config';
import { sha256Hex } from '../common/secrets';

export type LimitName = 'loginIp' | 'loginAccount' | 'signupIp' | 'signupAccount';

/**
 * Login and signup limits, per client IP and per account, counted in Redis so every replica shares them
 * (rate-limiter-flexible: atomic counters with a fixed window per key). When Redis cannot be reached each
 * replica falls back to counting in its own memory: weaker, but logins keep working and are still limited.
 * Account keys are the SHA-256 of the e-mail address, so Redis holds no address.
 */
@Injectable()
export class RateLimits implements OnApplicationShutdown {
  private readonly logger = new Logger(RateLimits.name);
  private readonly redis: Redis;
  private readonly limiters: Record<LimitName, RateLimiterRedis>;
  private lastRedisError = 0;

  constructor(@Inject(IDENTITY_CONFIG) config: IdentityConfig) {
    this.redis = new Redis(config.REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(times * 200, 2_000),
    });
    this.redis.on('error', (error: Error) => {
      if (Date.now() - this.lastRedisError > 60_000) {
        this.lastRedisError = Date.now();
        this.logger.warn({
          msg: 'Redis unavailable: rate limits count in memory meanwhile',
          error: error.message,
        });
      }
    });
    const make = (name: LimitName, rule: RateLimitRule) =>
      new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${config.RATE_LIMIT_PREFIX}:${name}`,
        points: rule.points,
        duration: rule.durationSeconds,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points: rule.points, duration: rule.durationSeconds }),
      });
    this.limiters = {
      loginIp: make('loginIp', config.RATE_LIMIT_LOGIN_IP),
      loginAccount: make('loginAccount', config.RATE_LIMIT_LOGIN_ACCOUNT),
      signupIp: make('signupIp', config.RATE_LIMIT_SIGNUP_IP),
      signupAccount: make('signupAccount', config.RATE_LIMIT_SIGNUP_ACCOUNT),
    };
  }

  static accountKey(email: string): string {
    return sha256Hex(email.trim().toLowerCase());
  }

  /** Counts one attempt; throws RATE_LIMITED (with the seconds to wait) once the limit is passed. */
  async consume(name: LimitName, key: string | undefined): Promise<void> {
    if (!key) return;
    try {
      await this.limiters[name].consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) throw DomainError.rateLimited(rejection.msBeforeNext / 1000);
      throw rejection;
    }
  }

  /** Throws RATE_LIMITED when the key has used up its points, without counting an attempt. */
  async check(name: LimitName, key: string): Promise<void> {
    const limiter = this.limiters[name];
    const state = await limiter.get(key).catch(() => null);
    if (state && state.consumedPoints >= limiter.points)
      throw DomainError.rateLimited(state.msBeforeNext / 1000);
  }

  async reset(name: LimitName, key: string): Promise<void> {
    await this.limiters[name].delete(key).catch(() => false);
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }
}
