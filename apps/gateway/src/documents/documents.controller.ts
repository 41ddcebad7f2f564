import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequireScopes } from '../auth/scopes.decorator';
import {
  UsersDocsSubjects,
  type DocumentDetail,
  type DocumentPage,
  type DocumentWithUpload,
} from '@docflow/contracts';
import {
  DocumentDetailModel,
  DocumentPageModel,
  DocumentWithUploadModel,
  ErrorModel,
  QUOTA_403_DOCUMENTS,
} from '../http/api-models';
import { PageQueryDto } from '../http/page-query.dto';
import { uuidParam } from '../http/validation';
import { ServiceClient } from '@docflow/messaging';
import { CreateDocumentDto } from './create-document.dto';

@ApiTags('documents')
@ApiBearerAuth()
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({ status: 404, type: ErrorModel, description: 'Unknown user or document' })
@ApiResponse({
  status: 503,
  type: ErrorModel,
  description: 'A service, storage or the message bus is unavailable',
})
@Controller('users/:user_id/docs')
export class DocumentsController {
  constructor(private readonly services: ServiceClient) {}

  @Get()
  @RequireScopes('documents:read')
  @ApiOperation({ summary: "List the user's documents (no URLs), newest first" })
  @ApiResponse({ status: 200, type: DocumentPageModel })
  list(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Query() query: PageQueryDto,
  ): Promise<DocumentPage> {
    return this.services.send(UsersDocsSubjects.documentList, {
      userId,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  @Post()
  @HttpCode(201)
  @RequireScopes('documents:write')
  @ApiOperation({
    summary: 'Register a document and get a presigned PUT to upload it straight to object storage',
    description:
      'Upload with `PUT upload.url`, sending `upload.headers`. The status becomes `uploaded` when the ' +
      'storage event arrives, or `rejected` when the stored size differs from `size`.',
  })
  @ApiResponse({ status: 201, type: DocumentWithUploadModel })
  @ApiResponse({ status: 403, type: ErrorModel, description: QUOTA_403_DOCUMENTS })
  create(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Body() body: CreateDocumentDto,
  ): Promise<DocumentWithUpload> {
    return this.services.send(UsersDocsSubjects.documentCreate, {
      userId,
      name: body.name,
      contentType: body.contentType,
      size: body.size,
    });
  }

  @Get(':doc_id')
  @RequireScopes('documents:read')
  @ApiOperation({ summary: 'Get a document; once uploaded it carries a presigned download URL' })
  @ApiResponse({ status: 200, type: DocumentDetailModel })
  get(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Param('doc_id', uuidParam('doc_id')) docId: string,
  ): Promise<DocumentDetail> {
    return this.services.send(UsersDocsSubjects.documentGet, { userId, docId });
  }

  @Delete(':doc_id')
  @RequireScopes('documents:write')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a document and its object' })
  @ApiNoContentResponse()
  async delete(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Param('doc_id', uuidParam('doc_id')) docId: string,
  ): Promise<void> {
    await this.services.send(UsersDocsSubjects.documentDelete, { userId, docId });
  }
}
