import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IdentitySubjects, type AuditEventPage, type AuthPrincipal } from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { CurrentPrincipal } from '../auth/principal';
import { RequireScopes } from '../auth/scopes.decorator';
import { TeamAccess } from '../auth/team-access';
import { AuditEventPageModel, ErrorModel } from '../http/api-models';
import { PageQueryDto } from '../http/page-query.dto';
import { uuidParam } from '../http/validation';

/** A team's audit log, for its owners (`team.audit.read`, decided here by {@link TeamAccess}). */
@ApiTags('teams')
@ApiBearerAuth()
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({
  status: 403,
  type: ErrorModel,
  description: 'A member who is not an owner, or a personal access token without `audit:read`',
})
@ApiResponse({ status: 404, type: ErrorModel, description: 'No such team, or you are not a member' })
@ApiResponse({ status: 503, type: ErrorModel, description: 'A service or the message bus is unavailable' })
@Controller('teams')
export class TeamAuditController {
  constructor(
    private readonly services: ServiceClient,
    private readonly teams: TeamAccess,
  ) {}

  @Get(':team_id/audit')
  @RequireScopes('audit:read')
  @ApiOperation({
    summary: "The team's security events, newest first (owners only)",
    description:
      "Whoever acted: the team's provider keys created, used by a job and deleted; the team created; members " +
      'added, their role changed, removed. Paged like `GET /auth/audit`.',
  })
  @ApiResponse({ status: 200, type: AuditEventPageModel })
  async audit(
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Query() query: PageQueryDto,
    @CurrentPrincipal() principal: AuthPrincipal,
  ): Promise<AuditEventPage> {
    const { teamId: team } = await this.teams.authorize(principal, teamId, 'team.audit.read');
    return this.services.send(IdentitySubjects.auditTeamList, {
      teamId: team,
      limit: query.limit,
      cursor: query.cursor,
    });
  }
}
