import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { CursorPosition } from '@docflow/database';
import type { TeamRole } from '@docflow/contracts';
import { TeamMemberEntity } from './team-member.entity';
import { TeamEntity } from './team.entity';

export interface TeamWithRole {
  id: string;
  name: string;
  createdAt: Date;
  role: TeamRole;
}

@Injectable()
export class TeamsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async create(team: TeamEntity, owner: TeamMemberEntity): Promise<void> {
    await this.dataSource.transaction((m) => this.insertTeam(m, team, owner));
  }

  /** A team and its first member, in the caller's transaction. */
  async insertTeam(manager: EntityManager, team: TeamEntity, owner: TeamMemberEntity): Promise<void> {
    await manager.getRepository(TeamEntity).insert(team);
    await manager.getRepository(TeamMemberEntity).insert(owner);
  }

  /** The default team made for the user at setup, if any. */
  findDefaultTeam(userId: string, manager?: EntityManager): Promise<TeamEntity | null> {
    return (manager ?? this.dataSource.manager)
      .getRepository(TeamEntity)
      .findOneBy({ defaultForUserId: userId });
  }

  findTeam(teamId: string): Promise<TeamEntity | null> {
    return this.dataSource.getRepository(TeamEntity).findOneBy({ id: teamId });
  }

  /** Locks the team row for the rest of the transaction (member changes of one team run one at a time). */
  async lockTeam(manager: EntityManager, teamId: string): Promise<TeamEntity | null> {
    return manager
      .getRepository(TeamEntity)
      .createQueryBuilder('t')
      .where('t.id = :teamId', { teamId })
      .setLock('pessimistic_write')
      .getOne();
  }

  findMember(teamId: string, userId: string, manager?: EntityManager): Promise<TeamMemberEntity | null> {
    return (manager ?? this.dataSource.manager).getRepository(TeamMemberEntity).findOneBy({ teamId, userId });
  }

  members(teamId: string): Promise<TeamMemberEntity[]> {
    return this.dataSource.getRepository(TeamMemberEntity).find({
      where: { teamId },
      relations: { user: true },
      order: { addedAt: 'ASC', userId: 'ASC' },
    });
  }

  /** Deletes the team; its members go with it (ON DELETE CASCADE). */
  async deleteTeam(manager: EntityManager, teamId: string): Promise<void> {
    await manager.getRepository(TeamEntity).delete({ id: teamId });
  }

  /**
   * The teams of the user, locked, with how many members and owners each has besides the user (the account is
   * being deleted: those with nobody else go with it, those with nobody else owning them need an owner).
   */
  async teamsOfLeavingUser(
    manager: EntityManager,
    userId: string,
  ): Promise<{ teamId: string; role: TeamRole; others: number; otherOwners: number }[]> {
    // Lock first, count second: a count in the locking statement would come from the snapshot taken before the
    // lock was granted, missing a member who left (or an owner who stepped down) while this waited for it. The
    // second statement sees what the transactions we waited for committed (READ COMMITTED).
    await manager.query(
      `SELECT t.id FROM identity.teams t
        WHERE t.id IN (SELECT team_id FROM identity.team_members WHERE user_id = $1)
        ORDER BY t.id
          FOR UPDATE OF t`,
      [userId],
    );
    const rows = await manager.query<
      { team_id: string; role: TeamRole; others: string; other_owners: string }[]
    >(
      `SELECT m.team_id, m.role,
              (SELECT count(*) FROM identity.team_members o WHERE o.team_id = m.team_id AND o.user_id <> $1) AS others,
              (SELECT count(*) FROM identity.team_members o
                WHERE o.team_id = m.team_id AND o.user_id <> $1 AND o.role = 'owner') AS other_owners
         FROM identity.team_members m
        WHERE m.user_id = $1
        ORDER BY m.team_id`,
      [userId],
    );
    return rows.map((r) => ({
      teamId: r.team_id,
      role: r.role,
      others: Number(r.others),
      otherOwners: Number(r.other_owners),
    }));
  }

  /** The member who becomes owner when the last owner's account goes: the highest role, then the longest there. */
  async successor(
    manager: EntityManager,
    teamId: string,
    leavingUserId: string,
  ): Promise<string | undefined> {
    const rows = await manager.query<{ user_id: string }[]>(
      `SELECT user_id FROM identity.team_members
        WHERE team_id = $1 AND user_id <> $2
        ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'editor' THEN 1 WHEN 'reader' THEN 2 ELSE 3 END,
                 added_at, user_id
        LIMIT 1`,
      [teamId, leavingUserId],
    );
    return rows[0]?.user_id;
  }

  async countOwners(manager: EntityManager, teamId: string): Promise<number> {
    return manager.getRepository(TeamMemberEntity).countBy({ teamId, role: 'owner' });
  }

  async insertMember(manager: EntityManager, member: TeamMemberEntity): Promise<void> {
    await manager.getRepository(TeamMemberEntity).insert(member);
  }

  async updateRole(manager: EntityManager, teamId: string, userId: string, role: TeamRole): Promise<void> {
    await manager.getRepository(TeamMemberEntity).update({ teamId, userId }, { role });
  }

  async removeMember(manager: EntityManager, teamId: string, userId: string): Promise<void> {
    await manager.getRepository(TeamMemberEntity).delete({ teamId, userId });
  }

  /** The user's teams with their role, newest first. */
  async listForUser(userId: string, limit: number, after?: CursorPosition): Promise<TeamWithRole[]> {
    const query = this.dataSource
      .getRepository(TeamEntity)
      .createQueryBuilder('t')
      .innerJoin(TeamMemberEntity, 'm', 'm.team_id = t.id AND m.user_id = :userId', { userId })
      .select(['t.id AS id', 't.name AS name', 't.created_at AS "createdAt"', 'm.role AS role'])
      .orderBy('t.created_at', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .limit(limit);
    if (after) query.where('(t.created_at, t.id) < (:createdAt, :id)', after);
    return query.getRawMany<TeamWithRole>();
  }
}
