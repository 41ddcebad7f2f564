import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { DeletedUserEntity } from './deleted-user.entity';
import { UserDetailsEntity } from './user-details.entity';
import { lockForTransaction } from '@docflow/database';

export type ProfilePatch = Partial<
  Pick<UserDetailsEntity, 'displayName' | 'bio' | 'locale' | 'timezone' | 'avatarUrl'>
>;

export type SubscriptionPatch = Partial<
  Pick<
    UserDetailsEntity,
    'plan' | 'subscriptionStatus' | 'maxDocuments' | 'maxStorageBytes' | 'maxJobsPerDay'
  >
>;

@Injectable()
export class UserDetailsRepository {
  private readonly repo: Repository<UserDetailsEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(UserDetailsEntity);
  }

  findByUserId(userId: string): Promise<UserDetailsEntity | null> {
    return this.repo.findOneBy({ userId });
  }

  /**
   * Inserts the row unless the user has one already or was deleted: `created` when this call made it, `exists`
   * when it was there, `deleted` when the user's account is gone (nothing is inserted).
   */
  async insertUnlessDeleted(entity: UserDetailsEntity): Promise<'created' | 'exists' | 'deleted'> {
    return this.dataSource.transaction(async (tx) => {
      await lockUser(tx, entity.userId);
      if (await tx.getRepository(DeletedUserEntity).existsBy({ userId: entity.userId })) return 'deleted';
      const result = await tx
        .createQueryBuilder()
        .insert()
        .into(UserDetailsEntity)
        .values(entity)
        .orIgnore()
        .returning(['user_id'])
        .execute();
      return (result.raw as unknown[]).length > 0 ? 'created' : 'exists';
    });
  }

  /**
   * Records the user as deleted and deletes their details, in one transaction; true when a row was deleted. Run
   * again, it finds nothing more to do.
   */
  async erase(userId: string, eventId: string, at: Date): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      await lockUser(tx, userId);
      await tx
        .createQueryBuilder()
        .insert()
        .into(DeletedUserEntity)
        .values({ userId, eventId: eventId.slice(0, 200), deletedAt: at })
        .orIgnore()
        .execute();
      const result = await tx.delete(UserDetailsEntity, { userId });
      return (result.affected ?? 0) > 0;
    });
  }

  isDeleted(userId: string): Promise<boolean> {
    return this.dataSource.getRepository(DeletedUserEntity).existsBy({ userId });
  }

  /** Rows whose default team was `teamId` no longer have one; how many. */
  async clearDefaultTeam(teamId: string, at: Date): Promise<number> {
    const result = await this.repo.update({ defaultTeamId: teamId }, { defaultTeamId: null, updatedAt: at });
    return result.affected ?? 0;
  }

  /** Completes a setup that waited for its team; false when it was completed already. */
  async completeTeamSetup(userId: string, teamId: string, at: Date): Promise<boolean> {
    const result = await this.repo.update(
      { userId, setupStatus: 'pending_team' },
      { defaultTeamId: teamId, setupStatus: 'complete', updatedAt: at },
    );
    return (result.affected ?? 0) > 0;
  }

  /** Changes profile fields only; the row after the change, or null when the user has none. */
  async updateSubscription(
    userId: string,
    patch: SubscriptionPatch,
    at: Date,
  ): Promise<UserDetailsEntity | null> {
    const result = await this.repo.update({ userId }, { ...patch, updatedAt: at });
    if ((result.affected ?? 0) === 0) return null;
    return this.findByUserId(userId);
  }

  async updateProfile(userId: string, patch: ProfilePatch, at: Date): Promise<UserDetailsEntity | null> {
    const result = await this.repo.update({ userId }, { ...patch, updatedAt: at });
    if ((result.affected ?? 0) === 0) return null;
    return this.findByUserId(userId);
  }
}

/**
 * Serialises the setup's insert and the deletion of one user (a transaction-scoped advisory lock): without it an
 * insert that has not seen the deletion's record yet could commit after the deletion's DELETE ran.
 */
async function lockUser(tx: EntityManager, userId: string): Promise<void> {
  await lockForTransaction(tx, `user-details:${userId}`);
}
