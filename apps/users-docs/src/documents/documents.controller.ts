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

  @MessagePattern(UsersDocsSubjects.documentDelete)
  async delete(@Payload() request: DocumentRef): Promise<{ deleted: true }> {
    await this.documents.delete(request);
    return { deleted: true };
  }
}
