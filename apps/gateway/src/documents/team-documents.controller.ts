import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  UsersDocsSubjects,
  type AuthPrincipal,
  type DocumentDetail,
  type DocumentPage,
  type DocumentWithUpload,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { CurrentPrincipal } from '../auth/principal';
import { RequireScopes } from '../auth/scopes.decorator';
import { TeamAccess } from '../auth/team-access';
import {
  DocumentDetailModel,
  DocumentPageModel,
  DocumentWithUploadModel,
  ErrorModel,
  QUOTA_403_DOCUMENTS,
} from '../http/api-models';
import { PageQueryDto } from '../http/page-query.dto';
import { uuidParam } from '../http/validation';
import { CreateDocumentDto } from './create-document.dto';

/**
 * A team's documents: what `/users/{user_id}/docs` is for a user, for the members of a team as far as their role
 * allows (`document.read`: owner, editor, reader; `document.write`: owner, editor; a consumer nothing). Not a
 * member: 404 (the team cannot be probed); a member whose role does not allow it: 403. A team's documents never
 * appear under a member's own `/users/{user_id}/docs`.
 */
@ApiTags('documents')
@ApiBearerAuth()
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({
  status: 403,
  type: ErrorModel,
  description:
    'Your role in the team does not allow it (`document.read`: owner, editor, reader; `document.write`: owner, ' +
    'editor), or a personal access token without the scope the route names',
})
@ApiResponse({
  status: 404,
  type: ErrorModel,
  description: 'No such team (or you are not a member), or no such document of the team',
})
@ApiResponse({
  status: 503,
  type: ErrorModel,
  description: 'A service, storage or the message bus is unavailable',
})
@Controller('teams/:team_id/docs')
export class TeamDocumentsController {
  constructor(
    private readonly services: ServiceClient,
    private readonly teams: TeamAccess,
  ) {}

  @Get()
  @RequireScopes('documents:read')
  @ApiOperation({ summary: "List the team's documents (no URLs), newest first" })
  @ApiResponse({ status: 200, type: DocumentPageModel })
  async list(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Query() query: PageQueryDto,
  ): Promise<DocumentPage> {
    const scope = await this.teams.authorize(principal, teamId, 'document.read');
    return this.services.send(UsersDocsSubjects.documentList, {
      ...scope,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  @Post()
  @HttpCode(201)
  @RequireScopes('documents:write')
  @ApiOperation({
    summary:
      'Register a document of the team and get a presigned PUT to upload it straight to object storage',
    description:
      'As `POST /users/{user_id}/docs`, for the team: upload with `PUT upload.url`, sending `upload.headers`. ' +
      "The document is the team's (`teamId`); `userId` records the member who created it.",
  })
  @ApiResponse({ status: 201, type: DocumentWithUploadModel })
  @ApiResponse({
    status: 403,
    type: ErrorModel,
    description:
      'Your role in the team does not allow it (`document.write`: owner, editor); or ' +
      `${QUOTA_403_DOCUMENTS} (the quota of the member who creates it: a team document counts as theirs)`,
  })
  async create(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Body() body: CreateDocumentDto,
  ): Promise<DocumentWithUpload> {
    const scope = await this.teams.authorize(principal, teamId, 'document.write');
    return this.services.send(UsersDocsSubjects.documentCreate, {
      ...scope,
      name: body.name,
      contentType: body.contentType,
      size: body.size,
    });
  }

  @Get(':doc_id')
  @RequireScopes('documents:read')
  @ApiOperation({ summary: "Get a team's document; once uploaded it carries a presigned download URL" })
  @ApiResponse({ status: 200, type: DocumentDetailModel })
  async get(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Param('doc_id', uuidParam('doc_id')) docId: string,
  ): Promise<DocumentDetail> {
    const scope = await this.teams.authorize(principal, teamId, 'document.read');
    return this.services.send(UsersDocsSubjects.documentGet, { ...scope, docId });
  }

  @Delete(':doc_id')
  @RequireScopes('documents:write')
  @HttpCode(204)
  @ApiOperation({ summary: "Delete a team's document and its object" })
  @ApiNoContentResponse()
  async delete(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Param('doc_id', uuidParam('doc_id')) docId: string,
  ): Promise<void> {
    const scope = await this.teams.authorize(principal, teamId, 'document.write');
    await this.services.send(UsersDocsSubjects.documentDelete, { ...scope, docId });
  }
}
