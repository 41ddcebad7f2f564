import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { UserDetailsEntity } from './user-details.entity';

export type ProfilePatch = Partial<
  Pick<UserDetailsEntity, 'displayName' | 'bio' | 'locale' | 'timezone' | 'avatarUrl'>
>;

@Injectable()
export class UserDetailsRepository {
  private readonly repo: Repository<UserDetailsEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(UserDetailsEntity);
  }

  findByUserId(userId: string): Promise<UserDetailsEntity | null> {
    return this.repo.findOneBy({ userId });
  }

  /** Inserts the row unless the user has one already; true when this call made it. */
  async insertIfAbsent(entity: UserDetailsEntity): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .insert()
      .values(entity)
      .orIgnore()
      .returning(['user_id'])
      .execute();
    return (result.raw as unknown[]).length > 0;
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
  async updateProfile(userId: string, patch: ProfilePatch, at: Date): Promise<UserDetailsEntity | null> {
    const result = await this.repo.update({ userId }, { ...patch, updatedAt: at });
    if ((result.affected ?? 0) === 0) return null;
    return this.findByUserId(userId);
  }
}
