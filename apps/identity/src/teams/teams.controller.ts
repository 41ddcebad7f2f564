import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  IdentitySubjects,
  IdentityTeamSubjects,
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
  type UpdateMemberRequest,
} from '@docflow/contracts';
import { TeamsService } from './teams.service';

@Controller()
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @MessagePattern(IdentitySubjects.teamCreate)
  create(@Payload() request: CreateTeamRequest): Promise<Team> {
    return this.teams.create(request);
  }

  /** Asked by user-details at a new user's setup; idempotent on `userId`. */
  @MessagePattern(IdentityTeamSubjects.createDefault)
  createDefault(@Payload() request: CreateDefaultTeamRequest): Promise<CreateDefaultTeamReply> {
    return this.teams.createDefault(request);
  }

  @MessagePattern(IdentitySubjects.teamList)
  list(@Payload() request: ListTeamsRequest): Promise<TeamPage> {
    return this.teams.list(request);
  }

  @MessagePattern(IdentitySubjects.teamDelete)
  async delete(@Payload() request: TeamRef): Promise<{ deleted: true }> {
    await this.teams.delete(request);
    return { deleted: true };
  }

  @MessagePattern(IdentitySubjects.memberList)
  async members(@Payload() request: TeamRef): Promise<{ items: TeamMember[] }> {
    return { items: await this.teams.members(request) };
  }

  @MessagePattern(IdentitySubjects.memberAdd)
  add(@Payload() request: AddMemberRequest): Promise<TeamMember> {
    return this.teams.add(request);
  }

  @MessagePattern(IdentitySubjects.memberUpdate)
  update(@Payload() request: UpdateMemberRequest): Promise<TeamMember> {
    return this.teams.update(request);
  }

  @MessagePattern(IdentitySubjects.memberRemove)
  async remove(@Payload() request: RemoveMemberRequest): Promise<{ removed: true }> {
    await this.teams.remove(request);
    return { removed: true };
  }

  @MessagePattern(IdentitySubjects.membershipGet)
  membership(@Payload() request: { teamId: string; userId: string }): Promise<Membership> {
    return this.teams.membership(request.teamId, request.userId);
  }
}
