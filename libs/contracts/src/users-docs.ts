import type { Page, PageQuery } from './pagination';

export interface User {
  id: string;
  name: string;
  email: string;
  createdAt: string;
  updatedAt: string;
}

export const DOCUMENT_STATUSES = ['pending_upload', 'uploaded', 'rejected', 'deleted'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

export const DOCUMENT_KINDS = ['upload', 'output'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export interface DocumentSummary {
  id: string;
  /** The owner, or for a team's document the member who created it. */
  userId: string;
  /** The team that owns the document, when a team does. */
  teamId?: string;
  name: string;
  kind: DocumentKind;
  /** For outputs: the job that made it, and the document(s) it was made from. */
  jobId?: string;
  sourceDocIds?: string[];
  contentType: string;
  /** Declared size in bytes. */
  size: number;
  status: DocumentStatus;
  /** Why the document was rejected or deleted, when it was. */
  statusReason?: string;
  etag?: string;
  createdAt: string;
  updatedAt: string;
  uploadedAt?: string;
}

export interface PresignedUpload {
  url: string;
  method: 'PUT';
  /** Headers the client must send with the PUT; they are part of the signature. */
  headers: Record<string, string>;
  expiresAt: string;
}

export interface PresignedDownload {
  url: string;
  expiresAt: string;
}

export interface DocumentWithUpload extends DocumentSummary {
  upload: PresignedUpload;
}

export interface DocumentDetail extends DocumentSummary {
  /** Present once the document is uploaded. */
  download?: PresignedDownload;
}

// ---- request payloads (what the gateway sends over NATS) ----

export interface CreateUserRequest {
  /**
   * The id identity gave the account, so both services share it. Creating again with the same id and email
   * returns the existing user (a retried call); the same email under another id is a CONFLICT.
   */
  id?: string;
  name: string;
  email: string;
}

export interface ReclaimUserRequest {
  email: string;
  /** ISO 8601: only a record created before this goes (a signup in progress is younger). */
  createdBefore: string;
}

export interface ReclaimUserReply {
  reclaimed: boolean;
}

export interface UserRef {
  userId: string;
}

/**
 * Whose documents a request is about. Without `teamId`: the user's own (a team's documents are never among them).
 * With `teamId`: the team's documents, and `userId` is the member acting, recorded as the creator of what is
 * made. The gateway has checked the member's role (`document.read` / `document.write` of @docflow/authz) before
 * it asks; a document of another owner answers NOT_FOUND exactly as an unknown one does.
 */
export interface OwnerScope extends UserRef {
  teamId?: string;
}

export interface ListUsersRequest extends PageQuery {}

export interface CreateDocumentRequest extends OwnerScope {
  name: string;
  contentType: string;
  size: number;
}

/** Narrows a document listing; every field is optional and they combine with AND. */
export interface DocumentListFilter {
  kind?: DocumentKind;
  status?: DocumentStatus;
  /** An exact content type, or `type/*` for every subtype. */
  contentType?: string;
  /** Uploaded strictly after this instant (ISO 8601). */
  uploadedAfter?: string;
  /** Uploaded at or before this instant (ISO 8601). */
  uploadedUntil?: string;
}

export interface ListDocumentsRequest extends OwnerScope, PageQuery {
  filter?: DocumentListFilter;
}

export interface DocumentRef extends OwnerScope {
  docId: string;
}

/** One storage notification record, normalised from the S3 / MinIO event format. */
export interface StorageEventRecord {
  /** `s3:ObjectCreated:Put`, `ObjectCreated:Copy`, `s3:ObjectRemoved:Delete`, ... */
  eventName: string;
  bucket: string;
  /** Decoded object key. */
  key: string;
  size?: number;
  eTag?: string;
  sequencer?: string;
}

export interface ApplyStorageEventsRequest {
  records: StorageEventRecord[];
}

export type StorageEventOutcome =
  'uploaded' | 'rejected' | 'deleted' | 'unchanged' | 'orphan_removed' | 'ignored';

export interface ApplyStorageEventsResult {
  results: { key: string; eventName: string; outcome: StorageEventOutcome; documentId?: string }[];
}

export interface HealthReport {
  service: string;
  status: 'ok' | 'degraded';
  checks: Record<string, { status: 'ok' | 'fail'; detail?: string }>;
}

export type UserPage = Page<User>;
export type DocumentPage = Page<DocumentSummary>;

export interface ResolveDocumentsRequest extends OwnerScope {
  docIds: string[];
}

export interface ResolvedDocument {
  docId: string;
  name: string;
  contentType: string;
  size: number;
  key: string;
  etag?: string;
}

export interface RegisterOutputRequest extends OwnerScope {
  jobId: string;
  sourceDocIds: string[];
  key: string;
  name: string;
  contentType: string;
  size: number;
}
