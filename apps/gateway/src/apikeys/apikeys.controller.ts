import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  KeyVaultSubjects,
  type ApiKeyPage,
  type ApiKeySummary,
  type AuthPrincipal,
  type KeyOwner,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { CurrentPrincipal, requireUserId } from '../auth/principal';
import { RequireScopes } from '../auth/scopes.decorator';
import { TeamAccess, type TeamAction } from '../auth/team-access';
import { ApiKeyModel, ApiKeyPageModel, ErrorModel } from '../http/api-models';
import { uuidParam } from '../http/validation';
import { ApiKeyOwnerQueryDto, CreateApiKeyDto, ListApiKeysQueryDto } from './create-api-key.dto';

@ApiTags('apikeys')
@ApiBearerAuth()
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({
  status: 403,
  type: ErrorModel,
  description: "A team role that does not allow it (a team's keys)",
})
@ApiResponse({ status: 503, type: ErrorModel, description: 'A service or the message bus is unavailable' })
@Controller('apikeys')
export class ApiKeysController {
  constructor(
    private readonly services: ServiceClient,
    private readonly teams: TeamAccess,
  ) {}

  /**
   * The caller's own keys, or a team's when `teamId` is given and the caller's role allows `action`
   * (`apikey.read`: owner, editor, reader; `apikey.write`: owner, editor). Not a member: 404; a member whose role
   * does not allow it: 403.
   */
  private async ownerFor(
    principal: AuthPrincipal,
    teamId: string | undefined,
    action: TeamAction,
  ): Promise<KeyOwner> {
    if (teamId === undefined) return { ownerType: 'user', ownerId: requireUserId(principal) };
    const { teamId: team } = await this.teams.authorize(principal, teamId, action);
    return { ownerType: 'team', ownerId: team };
  }

  @Post()
  @HttpCode(201)
  @RequireScopes('apikeys:write')
  @ApiOperation({
    summary: 'Store a provider key (encrypted); it is never shown again, only its last four characters',
  })
  @ApiResponse({ status: 201, type: ApiKeyModel })
  @ApiResponse({
    status: 404,
    type: ErrorModel,
    description: 'Unknown team, or not a member',
  })
  @ApiResponse({ status: 409, type: ErrorModel, description: 'A key with this name exists already' })
  async create(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Body() body: CreateApiKeyDto,
  ): Promise<ApiKeySummary> {
    const owner = await this.ownerFor(principal, body.teamId, 'apikey.write');
    return this.services.send(KeyVaultSubjects.keyCreate, {
      ...owner,
      actorUserId: requireUserId(principal),
      name: body.name,
      provider: body.provider,
      key: body.key,
    });
  }

  @Get()
  @RequireScopes('apikeys:read')
  @ApiOperation({ summary: "List your keys (or a team's), newest first, without secrets" })
  @ApiResponse({ status: 200, type: ApiKeyPageModel })
  @ApiResponse({ status: 404, type: ErrorModel, description: 'Unknown team, or not a member' })
  async list(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Query() query: ListApiKeysQueryDto,
  ): Promise<ApiKeyPage> {
    const owner = await this.ownerFor(principal, query.teamId, 'apikey.read');
    return this.services.send(KeyVaultSubjects.keyList, {
      ...owner,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  @Delete(':key_id')
  @HttpCode(204)
  @RequireScopes('apikeys:write')
  @ApiOperation({ summary: 'Delete a key; jobs holding a grant for it lose access at once' })
  @ApiNoContentResponse()
  @ApiResponse({ status: 404, type: ErrorModel, description: 'No such key of yours (or of the team)' })
  async delete(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('key_id', uuidParam('key_id')) keyId: string,
    @Query() query: ApiKeyOwnerQueryDto,
  ): Promise<void> {
    const owner = await this.ownerFor(principal, query.teamId, 'apikey.write');
    await this.services.send(KeyVaultSubjects.keyDelete, {
      ...owner,
      actorUserId: requireUserId(principal),
      keyId,
    });
  }
}
