import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DOCUMENT_KINDS,
  DOCUMENT_STATUSES,
  DomainError,
  ErrorCode,
  PAGE_LIMIT_DEFAULT,
  type CreateDocumentRequest,
  type DocumentDetail,
  type DocumentListFilter,
  type DocumentPage,
  type DocumentRef,
  type DocumentSummary,
  type DocumentWithUpload,
  type ListDocumentsRequest,
  type OwnerScope,
  type RegisterOutputRequest,
  type ResolveDocumentsRequest,
  type ResolvedDocument,
} from '@docflow/contracts';
import { decodeCursor, isUniqueViolation, toPage } from '@docflow/database';
import { ObjectStorage } from '@docflow/storage';
import { Clock } from '../common/clock';
import { USERS_DOCS_CONFIG, type UsersDocsConfig } from '../config';
import { UsersRepository } from '../users/users.repository';
import { DocumentQuota } from './document-quota';
import { DocumentEntity } from './document.entity';
import { DocumentsRepository, type DocumentFilter, type DocumentScope } from './documents.repository';
import { documentObjectKey, jobOutputsPrefix, teamDocumentObjectKey } from './object-keys';

export function toDocumentSummary(entity: DocumentEntity): DocumentSummary {
  return {
    id: entity.id,
    userId: entity.userId,
    ...(entity.teamId ? { teamId: entity.teamId } : {}),
    name: entity.name,
    kind: entity.kind,
    contentType: entity.contentType,
    size: entity.size,
    status: entity.status,
    ...(entity.statusReason ? { statusReason: entity.statusReason } : {}),
    ...(entity.etag ? { etag: entity.etag } : {}),
    ...(entity.jobId ? { jobId: entity.jobId } : {}),
    ...(entity.sourceDocIds?.length ? { sourceDocIds: entity.sourceDocIds } : {}),
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
    ...(entity.uploadedAt ? { uploadedAt: entity.uploadedAt.toISOString() } : {}),
  };
}

const CONTENT_TYPE_FILTER = /^[a-z0-9!#$&^_.+-]{1,127}\/([a-z0-9!#$&^_.+-]{1,127}|\*)$/i;

/** Whose documents a request is about, ids in lower case: the team's when it names one, else the user's own. */
export function scopeOf(request: OwnerScope): DocumentScope {
  const userId = String(request.userId).toLowerCase();
  if (request.teamId === undefined || request.teamId === null) return { userId };
  // Never fall back to the user's own documents on a team id that is there but empty.
  if (typeof request.teamId !== 'string' || !request.teamId)
    throw DomainError.validation('teamId', 'must be a team id');
  return { userId, teamId: request.teamId.toLowerCase() };
}

/** A listing filter from a request, checked field by field. */
export function listFilter(filter: DocumentListFilter | undefined): DocumentFilter {
  if (!filter) return {};
  const instant = (field: 'uploadedAfter' | 'uploadedUntil'): Date | undefined => {
    const value = filter[field];
    if (value === undefined) return undefined;
    const date = new Date(value);
    if (typeof value !== 'string' || Number.isNaN(date.getTime())) {
      throw DomainError.validation(`filter.${field}`, 'must be an ISO 8601 date-time');
    }
    return date;
  };
  if (filter.kind !== undefined && !DOCUMENT_KINDS.includes(filter.kind)) {
    throw DomainError.validation('filter.kind', `must be one of ${DOCUMENT_KINDS.join(', ')}`);
  }
  if (filter.status !== undefined && !DOCUMENT_STATUSES.includes(filter.status)) {
    throw DomainError.validation('filter.status', `must be one of ${DOCUMENT_STATUSES.join(', ')}`);
  }
  if (filter.contentType !== undefined && !CONTENT_TYPE_FILTER.test(filter.contentType)) {
    throw DomainError.validation('filter.contentType', 'must be a content type such as text/plain or text/*');
  }
  return {
    ...(filter.kind ? { kind: filter.kind } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.contentType ? { contentType: filter.contentType } : {}),
    ...(filter.uploadedAfter !== undefined ? { uploadedAfter: instant('uploadedAfter') } : {}),
    ...(filter.uploadedUntil !== undefined ? { uploadedUntil: instant('uploadedUntil') } : {}),
  };
}

@Injectable()
export class DocumentsService {
  private readonly logger = new Logger(DocumentsService.name);

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly users: UsersRepository,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    @Inject(USERS_DOCS_CONFIG) private readonly config: UsersDocsConfig,
    private readonly clock: Clock,
    private readonly quota: DocumentQuota,
  ) {}

  /**
   * Registers a document and returns a presigned PUT that uploads it straight to the bucket. Refused past the
   * creating user's quota (documents and declared bytes of their uploads, own and team documents alike).
   */
  async create(request: CreateDocumentRequest): Promise<DocumentWithUpload> {
    if (request.size > this.config.MAX_DOCUMENT_SIZE_BYTES) {
      throw DomainError.validation('size', `must not exceed ${this.config.MAX_DOCUMENT_SIZE_BYTES} bytes`);
    }
    const { userId, teamId } = scopeOf(request);
    // The creator of a team's document is a known user too.
    if (!(await this.users.exists(userId))) throw DomainError.notFound('user');
    const admit = await this.quota.admission(userId, request.size);

    const now = this.clock.now();
    const id = randomUUID();
    const entity = Object.assign(new DocumentEntity(), {
      id,
      userId,
      teamId: teamId ?? null,
      ownerUserId: teamId ? null : userId,
      name: request.name,
      kind: 'upload' as const,
      contentType: request.contentType,
      size: request.size,
      status: 'pending_upload' as const,
      statusReason: null,
      objectKey: teamId
        ? teamDocumentObjectKey(teamId, id, request.name)
        : documentObjectKey(userId, id, request.name),
      etag: null,
      createdAt: now,
      updatedAt: now,
      uploadedAt: null,
      deletedAt: null,
      jobId: null,
      sourceDocIds: null,
    });
    // Presign before writing, so a failure leaves no half-registered document behind.
    const upload = await this.storage.presignPut({
      key: entity.objectKey,
      contentType: entity.contentType,
      contentLength: entity.size,
      expiresInSeconds: this.config.UPLOAD_URL_TTL_SECONDS,
    });
    // A team deleted since the gateway checked the member's role: nothing is stored for it.
    if (!(await this.documents.insert(entity, admit))) throw DomainError.notFound('team');
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

  /**
   * The documents a job will read: every id must be the user's own (a team job: the team's; 404 otherwise, as
   * for any other owner's resource) and uploaded (400 naming the ids that are not).
   */
  async resolve(request: ResolveDocumentsRequest): Promise<ResolvedDocument[]> {
    const ids = [...new Set(request.docIds.map((id) => id.toLowerCase()))];
    const found = await this.documents.findVisibleMany(scopeOf(request), ids);
    const byId = new Map(found.map((d) => [d.id, d]));
    const missing = ids.filter((id) => !byId.has(id));
    if (missing.length) {
      throw new DomainError(ErrorCode.NOT_FOUND, `document not found: ${missing.join(', ')}`, {
        docIds: missing,
      });
    }
    const notUploaded = found.filter((d) => d.status !== 'uploaded');
    if (notUploaded.length) {
      throw new DomainError(
        ErrorCode.VALIDATION_FAILED,
        `docIds: not uploaded yet: ${notUploaded.map((d) => `${d.id} (${d.status})`).join(', ')}`,
        notUploaded.map((d) => ({ field: 'docIds', message: `${d.id} is ${d.status}, not uploaded` })),
      );
    }
    return ids.map((id) => {
      const d = byId.get(id)!;
      return {
        docId: d.id,
        name: d.name,
        contentType: d.contentType,
        size: d.size,
        key: d.objectKey,
        ...(d.etag ? { etag: d.etag } : {}),
      };
    });
  }

  /**
   * A job's output object becomes a document of the user (with `teamId`: of the team, created by the member who
   * started the job), already uploaded. Idempotent on the object key: the same output registered twice is one
   * document. For a team recorded as deleted nothing is registered and the object is removed (NOT_FOUND).
   */
  async registerOutput(request: RegisterOutputRequest): Promise<DocumentSummary> {
    const scope = scopeOf(request);
    const { userId, teamId } = scope;
    // Only an object under the job's own outputs (the user's, or the team's) can become a document of its owner.
    if (!request.key.startsWith(jobOutputsPrefix(scope, request.jobId.toLowerCase()))) {
      throw DomainError.validation('key', "is not under the job's outputs");
    }
    const sameOwner = (d: DocumentEntity) =>
      teamId ? d.teamId === teamId : d.userId === userId && d.teamId === null;
    const existing = await this.documents.findByObjectKey(request.key);
    if (existing) {
      if (!sameOwner(existing)) throw DomainError.validation('key', 'belongs to another document');
      return toDocumentSummary(existing);
    }
    const now = this.clock.now();
    const entity = Object.assign(new DocumentEntity(), {
      id: randomUUID(),
      userId,
      teamId: teamId ?? null,
      ownerUserId: teamId ? null : userId,
      name: request.name,
      kind: 'output' as const,
      contentType: request.contentType,
      size: request.size,
      status: 'uploaded' as const,
      statusReason: null,
      objectKey: request.key,
      etag: null,
      createdAt: now,
      updatedAt: now,
      uploadedAt: now,
      deletedAt: null,
      jobId: request.jobId,
      sourceDocIds: request.sourceDocIds,
    });
    let stored: boolean;
    try {
      stored = await this.documents.insert(entity);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const winner = (await this.documents.findByObjectKey(request.key))!;
      if (!sameOwner(winner)) throw DomainError.validation('key', 'belongs to another document');
      return toDocumentSummary(winner);
    }
    if (!stored) {
      // The team's objects were removed with it; this one arrived late and goes too.
      await this.storage.delete(request.key).catch((error: unknown) =>
        this.logger.warn({
          msg: 'could not remove the output of a deleted team',
          teamId,
          error: (error as Error).message,
        }),
      );
      throw DomainError.notFound('team');
    }
    return toDocumentSummary(entity);
  }

  async list(request: ListDocumentsRequest): Promise<DocumentPage> {
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const scope = scopeOf(request);
    const rows = await this.documents.listVisible(scope, limit + 1, after, listFilter(request.filter));
    // A team without documents lists nothing (the gateway has checked the membership); an unknown user is a 404.
    if (rows.length === 0 && !scope.teamId && !(await this.users.exists(scope.userId)))
      throw DomainError.notFound('user');
    return toPage(rows, limit, toDocumentSummary);
  }

  /** The document, with a presigned download once it is uploaded. */
  async get(ref: DocumentRef): Promise<DocumentDetail> {
    const entity = await this.documents.findVisible(scopeOf(ref), ref.docId);
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

  /**
   * Marks the document deleted, then removes its object. In that order, an upload that lands meanwhile
   * (its presigned URL may still be valid) finds a deleted document and is removed as an orphan. When
   * storage fails the mark is undone, so the document stays and the call can be retried.
   */
  async delete(ref: DocumentRef): Promise<void> {
    const entity = await this.documents.findVisible(scopeOf(ref), ref.docId);
    if (!entity) throw DomainError.notFound('document');
    const now = this.clock.now();
    const marked = await this.documents.transition(entity.id, [entity.status], {
      status: 'deleted',
      statusReason: entity.teamId ? 'deleted by a member of the team' : 'deleted by the user',
      deletedAt: now,
      updatedAt: now,
    });
    // Changed by a storage event in between: start again from the current state.
    if (!marked) return this.delete(ref);
    try {
      await this.storage.delete(entity.objectKey);
    } catch (error) {
      this.logger.warn({
        msg: 'could not remove a document object',
        documentId: entity.id,
        error: (error as Error).message,
      });
      await this.documents.transition(entity.id, ['deleted'], {
        status: entity.status,
        statusReason: entity.statusReason,
        deletedAt: null,
        updatedAt: this.clock.now(),
      });
      throw new DomainError(
        ErrorCode.STORAGE_UNAVAILABLE,
        'Object storage is unavailable; the document was kept',
      );
    }
  }
}
