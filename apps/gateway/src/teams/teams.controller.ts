import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IdentitySubjects, type Team, type TeamMember, type TeamPage } from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { CurrentPrincipal } from '../auth/principal';
import { RequireScopes } from '../auth/scopes.decorator';
import { AddMemberDto, CreateTeamDto, UpdateMemberDto } from '../identity/auth.dto';
import {
  ErrorModel,
  TeamMemberListModel,
  TeamMemberModel,
  TeamModel,
  TeamPageModel,
} from '../http/api-models';
import { PageQueryDto } from '../http/page-query.dto';
import { uuidParam } from '../http/validation';

type Caller = { userId: string };

@ApiTags('teams')
@ApiBearerAuth()
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({ status: 403, type: ErrorModel, description: 'Your role in the team does not allow it' })
@ApiResponse({
  status: 404,
  type: ErrorModel,
  description: 'No such team (or you are not a member), or user',
})
@ApiResponse({ status: 503, type: ErrorModel, description: 'A service or the message bus is unavailable' })
@Controller('teams')
export class TeamsController {
  constructor(private readonly services: ServiceClient) {}

  @Post()
  @HttpCode(201)
  @RequireScopes('teams:write')
  @ApiOperation({ summary: 'Create a team; you are its owner' })
  @ApiResponse({ status: 201, type: TeamModel })
  create(@Body() body: CreateTeamDto, @CurrentPrincipal() caller: Caller): Promise<Team> {
    return this.services.send(IdentitySubjects.teamCreate, { actorId: caller.userId, name: body.name });
  }

  @Get()
  @RequireScopes('teams:read')
  @ApiOperation({ summary: 'Your teams with your role in each, newest first' })
  @ApiResponse({ status: 200, type: TeamPageModel })
  list(@Query() query: PageQueryDto, @CurrentPrincipal() caller: Caller): Promise<TeamPage> {
    return this.services.send(IdentitySubjects.teamList, {
      actorId: caller.userId,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  @Delete(':team_id')
  @HttpCode(204)
  @RequireScopes('teams:write')
  @ApiOperation({
    summary:
      "Delete a team (owners only): its members leave, and the team's provider keys and documents are deleted",
  })
  @ApiNoContentResponse()
  async delete(
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @CurrentPrincipal() caller: Caller,
  ): Promise<void> {
    await this.services.send(IdentitySubjects.teamDelete, { actorId: caller.userId, teamId });
  }

  @Get(':team_id/members')
  @RequireScopes('teams:read')
  @ApiOperation({ summary: "The team's members and their roles" })
  @ApiResponse({ status: 200, type: TeamMemberListModel })
  members(
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @CurrentPrincipal() caller: Caller,
  ): Promise<{ items: TeamMember[] }> {
    return this.services.send(IdentitySubjects.memberList, { actorId: caller.userId, teamId });
  }

  @Post(':team_id/members')
  @HttpCode(201)
  @RequireScopes('teams:write')
  @ApiOperation({ summary: 'Add a member with a role (owners only)' })
  @ApiResponse({ status: 201, type: TeamMemberModel })
  @ApiResponse({ status: 409, type: ErrorModel, description: 'Already a member' })
  add(
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Body() body: AddMemberDto,
    @CurrentPrincipal() caller: Caller,
  ): Promise<TeamMember> {
    return this.services.send(IdentitySubjects.memberAdd, {
      actorId: caller.userId,
      teamId,
      userId: body.userId?.toLowerCase(),
      email: body.email,
      role: body.role,
    });
  }

  @Patch(':team_id/members/:user_id')
  @RequireScopes('teams:write')
  @ApiOperation({ summary: "Change a member's role (owners only)" })
  @ApiResponse({ status: 200, type: TeamMemberModel })
  @ApiResponse({ status: 409, type: ErrorModel, description: 'The last owner cannot be demoted' })
  update(
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Body() body: UpdateMemberDto,
    @CurrentPrincipal() caller: Caller,
  ): Promise<TeamMember> {
    return this.services.send(IdentitySubjects.memberUpdate, {
      actorId: caller.userId,
      teamId,
      userId,
      role: body.role,
    });
  }

  @Delete(':team_id/members/:user_id')
  @HttpCode(204)
  @RequireScopes('teams:write')
  @ApiOperation({ summary: 'Remove a member (owners), or leave the team (yourself)' })
  @ApiNoContentResponse()
  @ApiResponse({ status: 409, type: ErrorModel, description: 'The last owner cannot leave' })
  async remove(
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Param('user_id', uuidParam('user_id')) userId: string,
    @CurrentPrincipal() caller: Caller,
  ): Promise<void> {
    await this.services.send(IdentitySubjects.memberRemove, { actorId: caller.userId, teamId, userId });
  }
}
