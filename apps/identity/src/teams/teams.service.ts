import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  DomainError,
  ErrorCode,
  IdentityEventSubjects,
  PAGE_LIMIT_DEFAULT,
  type AddMemberRequest,
  type CreateDefaultTeamReply,
  type CreateDefaultTeamRequest,
  type CreateTeamRequest,
  type ListTeamsRequest,
  type Membership,
  type RemoveMemberRequest,
  type Team,
  type TeamMember,
  type TeamPage,
  type TeamRef,
  type TeamDeletedEvent,
  type TeamRole,
  type UpdateMemberRequest,
} from '@docflow/contracts';
import { can, isTeamRole, type TeamAction } from '@docflow/authz';
import { decodeCursor, isForeignKeyViolation, isUniqueViolation, toPage } from '@docflow/database';
import { AccountsRepository } from '../accounts/accounts.repository';
import { AuditLog } from '../audit/audit-log';
import { Clock } from '../common/clock';
import { OutboxRelay } from '../outbox/outbox.relay';
import { TeamMemberEntity } from './team-member.entity';
import { TeamEntity } from './team.entity';
import { TeamsRepository } from './teams.repository';

const teamNotFound = () => DomainError.notFound('team');
const onlyOwner = (teamIds: string[]) =>
  new DomainError(
    ErrorCode.CONFLICT,
    'user: you are the only owner of a team that has other members; make another member owner, or delete the team, first',
    teamIds.map((teamId) => ({ field: 'teams', message: `the only owner of team ${teamId}` })),
  );
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toTeamMember(member: TeamMemberEntity): TeamMember {
  return {
    userId: member.userId,
    name: member.user?.name ?? '',
    email: member.user?.email ?? '',
    role: member.role,
    addedAt: member.addedAt.toISOString(),
  };
}

/** Teams and their members. Every permission comes from `can()` in @docflow/authz. */
@Injectable()
export class TeamsService {
  constructor(
    private readonly teams: TeamsRepository,
    private readonly accounts: AccountsRepository,
    private readonly audit: AuditLog,
    private readonly outbox: OutboxRelay,
    private readonly clock: Clock,
  ) {}

  /**
   * Deletes a team (its owners only): the members go in the same transaction as the `identity.team.deleted`
   * event that makes key-vault drop the team's keys.
   */
  async delete(ref: TeamRef): Promise<void> {
    await this.authorize(ref, 'team.delete');
    await this.teams.transaction(async (manager) => {
      if (!(await this.teams.lockTeam(manager, ref.teamId))) throw teamNotFound();
      await this.authorize(ref, 'team.delete', manager);
      await this.removeTeam(manager, ref.teamId);
      await this.audit.recordIn(manager, {
        userId: ref.actorId,
        teamId: ref.teamId,
        type: 'team.deleted',
        targetId: ref.teamId,
      });
    });
    this.outbox.nudge();
  }

  /** Deletes the team and adds its `identity.team.deleted` event, in the caller's transaction. */
  async removeTeam(manager: EntityManager, teamId: string): Promise<void> {
    await this.teams.deleteTeam(manager, teamId);
    const event: TeamDeletedEvent = {
      eventId: randomUUID(),
      teamId,
      deletedAt: this.clock.now().toISOString(),
    };
    await this.outbox.add(manager, IdentityEventSubjects.teamDeleted, event);
  }

  /**
   * What the deletion of a user's account does to their teams, in the caller's transaction: a team with nobody
   * else goes too; a team the user alone owns gets the next member as owner (`self`: refused instead, so that
   * people choose their successor themselves).
   */
  async releaseTeamsOf(manager: EntityManager, userId: string, self: boolean): Promise<void> {
    const teams = await this.teams.teamsOfLeavingUser(manager, userId);
    const orphaned = teams.filter((t) => t.others > 0 && t.role === 'owner' && t.otherOwners === 0);
    if (self && orphaned.length > 0) throw onlyOwner(orphaned.map((t) => t.teamId));
    for (const team of teams) {
      if (team.others === 0) {
        await this.removeTeam(manager, team.teamId);
        continue;
      }
      if (!orphaned.includes(team)) continue;
      const successor = await this.teams.successor(manager, team.teamId, userId);
      if (!successor) continue;
      await this.teams.updateRole(manager, team.teamId, successor, 'owner');
      await this.audit.recordIn(manager, {
        userId: successor,
        teamId: team.teamId,
        type: 'team.member.updated',
        targetId: team.teamId,
        details: { to: 'owner', reason: 'the last owner was deleted' },
      });
    }
  }

  /** Refuses (`CONFLICT`) while the user is the only owner of a team that has other members. */
  async assertNotOnlyOwner(userId: string): Promise<void> {
    const teams = await this.teams.transaction((manager) => this.teams.teamsOfLeavingUser(manager, userId));
    const orphaned = teams.filter((t) => t.others > 0 && t.role === 'owner' && t.otherOwners === 0);
    if (orphaned.length > 0) throw onlyOwner(orphaned.map((t) => t.teamId));
  }

  async create(request: CreateTeamRequest): Promise<Team> {
    const now = this.clock.now();
    const team = Object.assign(new TeamEntity(), {
      id: randomUUID(),
      name: request.name.trim(),
      createdBy: request.actorId,
      defaultForUserId: null,
      createdAt: now,
    });
    const owner = Object.assign(new TeamMemberEntity(), {
      teamId: team.id,
      userId: request.actorId,
      role: 'owner' as const,
      addedAt: now,
    });
    try {
      await this.teams.create(team, owner);
    } catch (error) {
      // The account was deleted meanwhile (its row is locked by the deletion, which commits first).
      if (isForeignKeyViolation(error)) throw DomainError.notFound('user');
      throw error;
    }
    await this.audit.record({
      userId: request.actorId,
      teamId: team.id,
      type: 'team.created',
      targetId: team.id,
    });
    return { id: team.id, name: team.name, role: 'owner', createdAt: now.toISOString() };
  }

  /**
   * The default team of a new user (`identity.team.create-default`, asked by user-details at setup): made once per
   * user, who owns it; asked again (a redelivered event, a retry after a lost reply, two replicas at once), it
   * answers the team it made before. An unknown user is `NOT_FOUND`; a bad request `VALIDATION_FAILED`.
   */
  async createDefault(request: CreateDefaultTeamRequest): Promise<CreateDefaultTeamReply> {
    const userId = typeof request?.userId === 'string' ? request.userId.toLowerCase() : '';
    if (!UUID.test(userId)) throw DomainError.validation('userId', 'must be a UUID');
    const name = typeof request.name === 'string' ? request.name.replace(/\p{Cc}/gu, ' ').trim() : '';
    if (name.length < 1 || name.length > 200)
      throw DomainError.validation('name', 'must be 1 to 200 characters');

    const existing = await this.teams.findDefaultTeam(userId);
    if (existing) return { teamId: existing.id };
    if (!(await this.accounts.findById(userId))) throw DomainError.notFound('user');
    const now = this.clock.now();
    const team = Object.assign(new TeamEntity(), {
      id: randomUUID(),
      name,
      createdBy: userId,
      defaultForUserId: userId,
      createdAt: now,
    });
    const owner = Object.assign(new TeamMemberEntity(), {
      teamId: team.id,
      userId,
      role: 'owner' as const,
      addedAt: now,
    });
    try {
      await this.teams.transaction(async (manager) => {
        await this.teams.insertTeam(manager, team, owner);
        await this.audit.recordIn(manager, {
          userId,
          teamId: team.id,
          type: 'team.created',
          targetId: team.id,
          details: { default: true },
        });
      });
    } catch (error) {
      // The account was deleted meanwhile (the deletion held its row and committed first).
      if (isForeignKeyViolation(error)) throw DomainError.notFound('user');
      // Another request made it meanwhile: answer with that one.
      if (!isUniqueViolation(error)) throw error;
      const made = await this.teams.findDefaultTeam(userId);
      if (!made) throw error;
      return { teamId: made.id };
    }
    return { teamId: team.id };
  }

  async list(request: ListTeamsRequest): Promise<TeamPage> {
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const rows = await this.teams.listForUser(request.actorId, limit + 1, after);
    return toPage(
      rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt) })),
      limit,
      (r): Team => ({ id: r.id, name: r.name, role: r.role, createdAt: r.createdAt.toISOString() }),
    );
  }

  /** The actor's role; a non-member learns nothing (404), a member without the right gets 403. */
  private async authorize(ref: TeamRef, action: TeamAction, manager?: EntityManager): Promise<TeamRole> {
    const member = await this.teams.findMember(ref.teamId, ref.actorId, manager);
    if (!member) throw teamNotFound();
    if (!can(member.role, action))
      throw new DomainError(
        ErrorCode.FORBIDDEN,
        `Your role (${member.role}) may not do ${action} in this team`,
      );
    return member.role;
  }

  async members(ref: TeamRef): Promise<TeamMember[]> {
    await this.authorize(ref, 'team.members.list');
    return (await this.teams.members(ref.teamId)).map(toTeamMember);
  }

  async membership(teamId: string, userId: string): Promise<Membership> {
    const member = await this.teams.findMember(teamId, userId);
    if (!member) throw teamNotFound();
    return { teamId, userId, role: member.role };
  }

  async add(request: AddMemberRequest): Promise<TeamMember> {
    const role = this.role(request.role);
    await this.authorize(request, 'team.members.manage');
    const target = request.userId
      ? await this.accounts.findById(request.userId)
      : request.email
        ? await this.accounts.findByEmail(request.email)
        : null;
    if (!target) throw DomainError.notFound('user');
    const now = this.clock.now();
    const member = Object.assign(new TeamMemberEntity(), {
      teamId: request.teamId,
      userId: target.id,
      role,
      addedAt: now,
    });
    try {
      await this.teams.transaction(async (manager) => {
        if (!(await this.teams.lockTeam(manager, request.teamId))) throw teamNotFound();
        await this.authorize(request, 'team.members.manage', manager);
        await this.teams.insertMember(manager, member);
        await this.audit.recordIn(manager, {
          userId: target.id,
          teamId: request.teamId,
          type: 'team.member.added',
          actorId: request.actorId,
          targetId: request.teamId,
          details: { role },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new DomainError(
          ErrorCode.CONFLICT,
          'user: already a member of this team; PATCH changes the role',
        );
      // The account was deleted meanwhile.
      if (isForeignKeyViolation(error)) throw DomainError.notFound('user');
      throw error;
    }
    member.user = target;
    return toTeamMember(member);
  }

  async update(request: UpdateMemberRequest): Promise<TeamMember> {
    const role = this.role(request.role);
    await this.authorize(request, 'team.members.manage');
    await this.teams.transaction(async (manager) => {
      if (!(await this.teams.lockTeam(manager, request.teamId))) throw teamNotFound();
      await this.authorize(request, 'team.members.manage', manager);
      const member = await this.teams.findMember(request.teamId, request.userId, manager);
      if (!member) throw DomainError.notFound('member');
      if (
        member.role === 'owner' &&
        role !== 'owner' &&
        (await this.teams.countOwners(manager, request.teamId)) <= 1
      )
        throw new DomainError(
          ErrorCode.CONFLICT,
          'role: the last owner cannot be demoted; make another owner first',
        );
      await this.teams.updateRole(manager, request.teamId, request.userId, role);
      await this.audit.recordIn(manager, {
        userId: request.userId,
        teamId: request.teamId,
        type: 'team.member.updated',
        actorId: request.actorId,
        targetId: request.teamId,
        details: { from: member.role, to: role },
      });
    });
    const updated = (await this.teams.members(request.teamId)).find((m) => m.userId === request.userId)!;
    return toTeamMember(updated);
  }

  async remove(request: RemoveMemberRequest): Promise<void> {
    const leaving = request.userId === request.actorId;
    if (!leaving) await this.authorize(request, 'team.members.manage');
    await this.teams.transaction(async (manager) => {
      if (!(await this.teams.lockTeam(manager, request.teamId))) throw teamNotFound();
      if (leaving) {
        if (!(await this.teams.findMember(request.teamId, request.actorId, manager))) throw teamNotFound();
      } else {
        await this.authorize(request, 'team.members.manage', manager);
      }
      const member = await this.teams.findMember(request.teamId, request.userId, manager);
      if (!member) throw DomainError.notFound('member');
      if (member.role === 'owner' && (await this.teams.countOwners(manager, request.teamId)) <= 1)
        throw new DomainError(
          ErrorCode.CONFLICT,
          'user: the last owner cannot leave the team; make another owner first',
        );
      await this.teams.removeMember(manager, request.teamId, request.userId);
      await this.audit.recordIn(manager, {
        userId: request.userId,
        teamId: request.teamId,
        type: 'team.member.removed',
        actorId: request.actorId,
        targetId: request.teamId,
      });
    });
  }

  private role(value: unknown): TeamRole {
    if (!isTeamRole(value))
      throw DomainError.validation('role', 'must be one of owner, editor, reader, consumer');
    return value;
  }
}
