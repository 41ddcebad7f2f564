import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  UsersDocsSubjects,
  type CreateDocumentRequest,
  type DocumentDetail,
  type DocumentPage,
  type DocumentRef,
  type DocumentWithUpload,
  type ListDocumentsRequest,
  type DocumentSummary,
  type RegisterOutputRequest,
  type ResolveDocumentsRequest,
  type ResolvedDocument,
} from '@docflow/contracts';
import { DocumentsService } from './documents.service';

@Controller()
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  @MessagePattern(UsersDocsSubjects.documentCreate)
  create(@Payload() request: CreateDocumentRequest): Promise<DocumentWithUpload> {
    return this.documents.create(request);
  }

  @MessagePattern(UsersDocsSubjects.documentList)
  list(@Payload() request: ListDocumentsRequest): Promise<DocumentPage> {
    return this.documents.list(request);
  }

  @MessagePattern(UsersDocsSubjects.documentGet)
  get(@Payload() request: DocumentRef): Promise<DocumentDetail> {
    return this.documents.get(request);
  }

  @MessagePattern(UsersDocsSubjects.documentResolve)
  resolve(@Payload() request: ResolveDocumentsRequest): Promise<ResolvedDocument[]> {
    return this.documents.resolve(request);
  }

  @MessagePattern(UsersDocsSubjects.documentRegisterOutput)
  registerOutput(@Payload() request: RegisterOutputRequest): Promise<DocumentSummary> {
    return this.documents.registerOutput(request);
  }

  @MessagePattern(UsersDocsSubjects.documentDelete)
  async delete(@Payload() request: DocumentRef): Promise<{ deleted: true }> {
    await this.documents.delete(request);
    return { deleted: true };
  }
}
