import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  PAGE_LIMIT_DEFAULT,
  type CreateDocumentRequest,
  type DocumentDetail,
  type DocumentPage,
  type DocumentRef,
  type DocumentSummary,
  type DocumentWithUpload,
  type ListDocumentsRequest,
} from '@docflow/contracts';
import { ObjectStorage } from '@docflow/storage';
import { Clock } from '../common/clock';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { USERS_DOCS_CONFIG, type UsersDocsConfig } from '../config';
import { UsersRepository } from '../users/users.repository';
import { DocumentEntity } from './document.entity';
import { DocumentsRepository } from './documents.repository';
import { documentObjectKey } from './object-keys';

export function toDocumentSummary(entity: DocumentEntity): DocumentSummary {
  return {
    id: entity.id,
    userId: entity.userId,
    name: entity.name,
    kind: entity.kind,
    contentType: entity.contentType,
    size: entity.size,
    status: entity.status,
    ...(entity.statusReason ? { statusReason: entity.statusReason } : {}),
    ...(entity.etag ? { etag: entity.etag } : {}),
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
    ...(entity.uploadedAt ? { uploadedAt: entity.uploadedAt.toISOString() } : {}),
  };
}

@Injectable()
export class DocumentsService {
  constructor(
    private readonly documents: DocumentsRepository,
    private readonly users: UsersRepository,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    @Inject(USERS_DOCS_CONFIG) private readonly config: UsersDocsConfig,
    private readonly clock: Clock,
  ) {}

  /** Registers a document and returns a presigned PUT that uploads it straight to the bucket. */
  async create(request: CreateDocumentRequest): Promise<DocumentWithUpload> {
    if (request.size > this.config.MAX_DOCUMENT_SIZE_BYTES) {
      throw DomainError.validation('size', `must not exceed ${this.config.MAX_DOCUMENT_SIZE_BYTES} bytes`);
    }
    if (!(await this.users.exists(request.userId))) throw DomainError.notFound('user');

    const now = this.clock.now();
    const id = randomUUID();
    const entity = Object.assign(new DocumentEntity(), {
      id,
      userId: request.userId,
      name: request.name,
      kind: 'upload' as const,
      contentType: request.contentType,
      size: request.size,
      status: 'pending_upload' as const,
      statusReason: null,
      objectKey: documentObjectKey(request.userId, id, request.name),
      etag: null,
      createdAt: now,
      updatedAt: now,
      uploadedAt: null,
      deletedAt: null,
    });
    // Presign before writing, so a failure leaves no half-registered document behind.
    const upload = await this.storage.presignPut({
      key: entity.objectKey,
      contentType: entity.contentType,
      contentLength: entity.size,
      expiresInSeconds: this.config.UPLOAD_URL_TTL_SECONDS,
    });
    await this.documents.insert(entity);
    return {
      ...toDocumentSummary(entity),
      upload: {
        url: upload.url,
        method: 'PUT',
        headers: upload.headers,
        expiresAt: upload.expiresAt.toISOString(),
      },
    };
  }

  async list(request: ListDocumentsRequest): Promise<DocumentPage> {
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const rows = await this.documents.listVisible(request.userId, limit + 1, after);
    if (rows.length === 0 && !(await this.users.exists(request.userId))) throw DomainError.notFound('user');
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toDocumentSummary),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor(last) } : {}),
    };
  }

  /** The document, with a presigned download once it is uploaded. */
  async get(ref: DocumentRef): Promise<DocumentDetail> {
    const entity = await this.documents.findVisible(ref.userId, ref.docId);
    if (!entity) throw DomainError.notFound('document');
    const summary = toDocumentSummary(entity);
    if (entity.status !== 'uploaded') return summary;
    const download = await this.storage.presignGet({
      key: entity.objectKey,
      version: entity.etag ?? undefined,
      expiresInSeconds: this.config.DOWNLOAD_URL_TTL_SECONDS,
      downloadName: entity.name,
      contentType: entity.contentType,
    });
    return { ...summary, download: { url: download.url, expiresAt: download.expiresAt.toISOString() } };
  }

  /** Removes the object, then marks the document deleted; afterwards it answers 404. */
  async delete(ref: DocumentRef): Promise<void> {
    const entity = await this.documents.findVisible(ref.userId, ref.docId);
    if (!entity) throw DomainError.notFound('document');
    try {
      await this.storage.delete(entity.objectKey);
    } catch (error) {
      throw new DomainError(
        ErrorCode.STORAGE_UNAVAILABLE,
        'Object storage is unavailable; the document was kept',
        {
          cause: (error as Error).message,
        },
      );
    }
    const now = this.clock.now();
    await this.documents.transition(entity.id, ['pending_upload', 'uploaded', 'rejected'], {
      status: 'deleted',
      statusReason: 'deleted by the user',
      deletedAt: now,
      updatedAt: now,
    });
  }
}
