import { Injectable } from '@nestjs/common';
import {
  DomainError,
  type GetUserDetailsRequest,
  type SetSubscriptionRequest,
  type UpdateUserDetailsRequest,
  type UserDetails,
} from '@docflow/contracts';
import { Clock } from '../common/clock';
import { profilePatchFrom, requireUserId, subscriptionPatchFrom } from './profile.validation';
import type { UserDetailsEntity } from './user-details.entity';
import { UserDetailsRepository } from './user-details.repository';

export function toUserDetails(entity: UserDetailsEntity): UserDetails {
  return {
    userId: entity.userId,
    displayName: entity.displayName,
    ...(entity.bio !== null ? { bio: entity.bio } : {}),
    locale: entity.locale,
    timezone: entity.timezone,
    ...(entity.avatarUrl !== null ? { avatarUrl: entity.avatarUrl } : {}),
    plan: entity.plan,
    subscriptionStatus: entity.subscriptionStatus,
    quota: {
      maxDocuments: entity.maxDocuments,
      maxStorageBytes: entity.maxStorageBytes,
      maxJobsPerDay: entity.maxJobsPerDay,
    },
    ...(entity.defaultTeamId !== null ? { defaultTeamId: entity.defaultTeamId } : {}),
    setupStatus: entity.setupStatus,
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
  };
}

@Injectable()
export class UserDetailsService {
  constructor(
    private readonly details: UserDetailsRepository,
    private readonly clock: Clock,
  ) {}

  async get(request: GetUserDetailsRequest): Promise<UserDetails> {
    const entity = await this.details.findByUserId(requireUserId(request.userId));
    if (!entity) throw DomainError.notFound('user details');
    return toUserDetails(entity);
  }

  /** Profile fields only: plan, subscription status and quota are not changed here whatever the request holds. */
  async update(request: UpdateUserDetailsRequest): Promise<UserDetails> {
    const userId = requireUserId(request.userId);
    const patch = profilePatchFrom(request);
    const entity = Object.keys(patch).length
      ? await this.details.updateProfile(userId, patch, this.clock.now())
      : await this.details.findByUserId(userId);
    if (!entity) throw DomainError.notFound('user details');
    return toUserDetails(entity);
  }

  /** Plan, subscription status and quota: what billing and platform administrators set (the gateway checks). */
  async setSubscription(request: SetSubscriptionRequest): Promise<UserDetails> {
    const userId = requireUserId(request.userId);
    const patch = subscriptionPatchFrom(request);
    const entity = await this.details.updateSubscription(userId, patch, this.clock.now());
    if (!entity) throw DomainError.notFound('user details');
    return toUserDetails(entity);
  }
}
