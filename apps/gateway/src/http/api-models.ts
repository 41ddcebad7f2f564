// Response shapes for the OpenAPI description. They mirror the types in @docflow/contracts.
import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import {
  API_KEY_PROVIDERS,
  DOCUMENT_KINDS,
  DOCUMENT_STATUSES,
  ErrorCode,
  JOB_EVENT_TYPES,
  JOB_STAGES,
  PLANS,
  SETUP_STATUSES,
  SUBSCRIPTION_STATUSES,
} from '@docflow/contracts';

export class UserModel {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class UserPageModel {
  @ApiProperty({ type: [UserModel] }) items!: UserModel[];
  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last page' })
  nextCursor?: string;
}

export class DocumentModel {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({
    format: 'uuid',
    description: "The owner, or for a team's document the member who created it",
  })
  userId!: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'The team that owns the document, when a team does' })
  teamId?: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: DOCUMENT_KINDS }) kind!: string;
  @ApiProperty() contentType!: string;
  @ApiProperty({ description: 'Declared size in bytes' }) size!: number;
  @ApiProperty({ enum: DOCUMENT_STATUSES }) status!: string;
  @ApiPropertyOptional({ description: 'Why the document was rejected or deleted' }) statusReason?: string;
  @ApiPropertyOptional() etag?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) uploadedAt?: string;
}

export class PresignedUploadModel {
  @ApiProperty({ description: 'Presigned PUT URL straight to the bucket' }) url!: string;
  @ApiProperty({ enum: ['PUT'] }) method!: 'PUT';
  @ApiProperty({
    description: 'Headers to send with the PUT; they are signed',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  headers!: Record<string, string>;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class PresignedDownloadModel {
  @ApiProperty() url!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class DocumentWithUploadModel extends DocumentModel {
  @ApiProperty({ type: PresignedUploadModel }) upload!: PresignedUploadModel;
}

export class DocumentDetailModel extends DocumentModel {
  @ApiPropertyOptional({ type: PresignedDownloadModel, description: 'Present once the document is uploaded' })
  download?: PresignedDownloadModel;
}

export class DocumentPageModel {
  @ApiProperty({ type: [DocumentModel] }) items!: DocumentModel[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class ErrorBodyModel {
  @ApiProperty({ enum: ErrorCode }) code!: ErrorCode;
  @ApiProperty() message!: string;
  @ApiPropertyOptional({ description: 'For validation errors: `[{ field, message }]`' }) details?: unknown;
  @ApiProperty() requestId!: string;
}

export class ErrorModel {
  @ApiProperty({ type: ErrorBodyModel }) error!: ErrorBodyModel;
}

/** The `Retry-After` response header of a 429 (from the error's `details.retryAfterSeconds`). */
export const RETRY_AFTER_HEADER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer', minimum: 1 },
  },
} as const;

/** The 403 of creating an upload past the quota (docs/user-details.md#quotas). */
export const QUOTA_403_DOCUMENTS =
  '`QUOTA_EXCEEDED`: the upload quota is used up: `maxDocuments`, or `maxStorageBytes` with this ' +
  "document's `size`; the message gives the numbers, `details.field` names the limit (`quota.maxDocuments`, " +
  '`quota.maxStorageBytes`)';

/** The 429 of starting a job past `maxJobsPerDay` (docs/user-details.md#quotas). */
export const QUOTA_429_JOBS =
  '`QUOTA_EXCEEDED`: `maxJobsPerDay` jobs were started in the last 24 hours (`details.field` ' +
  '`quota.maxJobsPerDay`); `Retry-After` (and `details.retryAfterSeconds`) says when the next may start';

export class StorageEventResultModel {
  @ApiProperty() key!: string;
  @ApiProperty() eventName!: string;
  @ApiProperty({ enum: ['uploaded', 'rejected', 'deleted', 'unchanged', 'orphan_removed', 'ignored'] })
  outcome!: string;
  @ApiPropertyOptional({ format: 'uuid' }) documentId?: string;
}

export class StorageEventsResultModel {
  @ApiProperty({ type: [StorageEventResultModel] }) results!: StorageEventResultModel[];
}

export class JobDocumentModel {
  @ApiProperty({ format: 'uuid' }) docId!: string;
  @ApiProperty({ description: 'The input it belongs to: the document id, `combined`, or `batch-<n>`' })
  inputId!: string;
  @ApiProperty({ enum: ['pending', 'running', 'completed', 'failed', 'cancelled'] }) status!: string;
  @ApiPropertyOptional({ enum: ['extract', 'transform', 'load'] }) stage?: string;
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiPropertyOptional({ format: 'uuid', description: 'The output document (kind `output`)' })
  outputDocId?: string;
  @ApiPropertyOptional() error?: string;
}

export class TokenUsageModel {
  @ApiProperty() inputTokens!: number;
  @ApiProperty() outputTokens!: number;
  @ApiProperty() totalTokens!: number;
}

// ---- job events (SSE `data:` and the steps' callbacks) ----

export class JobEventOutputModel {
  @ApiProperty({ maxLength: 1024 }) markdownKey!: string;
  @ApiProperty({ maxLength: 1024 }) sidecarKey!: string;
  @ApiProperty({ minimum: 0 }) bytes!: number;
}

export class JobEventErrorModel {
  @ApiProperty({ enum: ['retryable', 'permanent'] }) kind!: string;
  @ApiProperty({ maxLength: 4000 }) message!: string;
}

/** A step's event (`JobEvent` of @docflow/contracts), as the jobs service validates it. */
export class JobEventModel {
  @ApiProperty({
    maxLength: 300,
    description:
      'Stable for the same fact, so a rerun step sends the same ids and repeats are ignored: ' +
      '`<jobId>:<chunk>:<inputId>:<type>[:<stage>]` (must start with the job id)',
  })
  id!: string;
  @ApiProperty({ format: 'uuid', description: 'The job of the URL' }) jobId!: string;
  @ApiProperty({
    enum: JOB_EVENT_TYPES,
    description:
      'A step reports `stage_started`, `stage_progress`, `stage_completed`, `doc_completed` and `doc_failed` (with ' +
      '`inputId`); the workflow exit handler reports `job_completed` or `job_failed` (without `inputId`)',
  })
  type!: string;
  @ApiProperty({ maxLength: 64, description: 'When it happened (ISO 8601)' }) at!: string;
  @ApiPropertyOptional({ minimum: 0, description: 'The step (chunk) that reports it' }) chunk?: number;
  @ApiPropertyOptional({ maxLength: 128, description: 'The input: a document id, `combined` or `batch-<n>`' })
  inputId?: string;
  @ApiPropertyOptional({ type: [String], maxItems: 10000 }) docIds?: string[];
  @ApiPropertyOptional({ enum: JOB_STAGES }) stage?: string;
  @ApiPropertyOptional({ minimum: 0, maximum: 100, description: 'Within the stage' }) progress?: number;
  @ApiPropertyOptional({ maxLength: 4000 }) message?: string;
  @ApiPropertyOptional({
    type: JobEventOutputModel,
    description: "`doc_completed`: the input's output, at `users/<userId>/jobs/<jobId>/outputs/<inputId>.md`",
  })
  output?: JobEventOutputModel;
  @ApiPropertyOptional({ type: TokenUsageModel }) usage?: TokenUsageModel;
  @ApiPropertyOptional({ type: JobEventErrorModel }) error?: JobEventErrorModel;
}

export class RecordEventResultModel {
  @ApiProperty({ enum: [true] }) accepted!: true;
  @ApiProperty({ description: 'The event id was seen before: nothing changed' }) duplicate!: boolean;
  @ApiPropertyOptional({
    enum: [true],
    description: 'With 202: kept in JetStream while the jobs service is unavailable, applied when it is back',
  })
  buffered?: true;
}

export class ResolvedKeyModel {
  @ApiProperty({ format: 'uuid' }) keyId!: string;
  @ApiProperty({ enum: API_KEY_PROVIDERS }) provider!: string;
  @ApiProperty({ description: 'The provider key in clear text' }) key!: string;
}

export class JobModel {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid', description: "The owner, or for a team's job the member who started it" })
  userId!: string;
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The team that owns the job, when a team does (its documents, outputs and semaphore)',
  })
  teamId?: string;
  @ApiProperty({
    enum: ['queued', 'submitted', 'running', 'completed', 'completed_with_errors', 'failed', 'cancelled'],
  })
  status!: string;
  @ApiProperty() crew!: string;
  @ApiProperty({ enum: ['individual', 'object', 'combined'] }) strategy!: string;
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 100,
    description:
      '`object` jobs only: documents per input (`options.batchSize`). Input `batch-<n>` holds documents ' +
      '`n × batchSize` to `(n + 1) × batchSize − 1` of `docIds`, in their order',
  })
  batchSize?: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) params!: Record<string, string>;
  @ApiProperty({ type: [String], format: 'uuid' }) docIds!: string[];
  @ApiProperty({ type: [JobDocumentModel] }) documents!: JobDocumentModel[];
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiProperty({ type: [String], format: 'uuid' }) outputDocIds!: string[];
  @ApiProperty({ description: 'Documents of the job in all' }) documentCount!: number;
  @ApiProperty({ description: 'Inputs of the job in all' }) inputCount!: number;
  @ApiProperty({
    description:
      '`docIds`, `documents` and `outputDocIds` list only the first ones (1,000; 20 per job in a list): ' +
      'page through `GET …/jobs/{job_id}/inputs` for all',
  })
  truncated!: boolean;
  @ApiProperty({ type: TokenUsageModel }) usage!: TokenUsageModel;
  @ApiProperty({ enum: ['local', 'argo'] }) engine!: string;
  @ApiPropertyOptional() error?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) submittedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) startedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
}

export class JobInputModel {
  @ApiProperty({ description: 'The document id, `combined`, or `batch-<n>`' }) inputId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The step that handles it' }) chunk!: number;
  @ApiProperty({ type: [String], format: 'uuid' }) docIds!: string[];
  @ApiProperty({ enum: ['pending', 'running', 'completed', 'failed', 'cancelled'] }) status!: string;
  @ApiPropertyOptional({ enum: ['extract', 'transform', 'load'] }) stage?: string;
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiPropertyOptional({ format: 'uuid', description: 'The output document (kind `output`)' })
  outputDocId?: string;
  @ApiPropertyOptional() error?: string;
}

export class JobInputPageModel {
  @ApiProperty({ type: [JobInputModel] }) items!: JobInputModel[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class JobPageModel {
  @ApiProperty({ type: [JobModel] }) items!: JobModel[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class ApiKeyModel {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: API_KEY_PROVIDERS }) provider!: string;
  @ApiProperty({ description: 'The last four characters of the key', example: 'x7Qa' }) last4!: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'Present for a team-owned key' }) teamId?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class ApiKeyPageModel {
  @ApiProperty({ type: [ApiKeyModel] }) items!: ApiKeyModel[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class QuotaModel {
  @ApiProperty() maxDocuments!: number;
  @ApiProperty() maxStorageBytes!: number;
  @ApiProperty() maxJobsPerDay!: number;
}

export class UserDetailsModel {
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty() displayName!: string;
  @ApiPropertyOptional() bio?: string;
  @ApiProperty({ example: 'en' }) locale!: string;
  @ApiProperty({ example: 'UTC' }) timezone!: string;
  @ApiPropertyOptional({ format: 'uri' }) avatarUrl?: string;
  @ApiProperty({ enum: PLANS, description: 'Set by billing and platform administrators' }) plan!: string;
  @ApiProperty({ enum: SUBSCRIPTION_STATUSES, description: 'Set by billing and platform administrators' })
  subscriptionStatus!: string;
  @ApiProperty({ type: QuotaModel }) quota!: QuotaModel;
  @ApiPropertyOptional({ format: 'uuid', description: 'The team created at setup, for plans that get one' })
  defaultTeamId?: string;
  @ApiProperty({ enum: SETUP_STATUSES }) setupStatus!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

// ---- health ----

export class HealthCheckModel {
  @ApiProperty({ enum: ['ok', 'fail'] }) status!: string;
  @ApiPropertyOptional({ description: 'Why it failed' }) detail?: string;
}

export class LivenessModel {
  @ApiProperty({ enum: ['ok'] }) status!: string;
}

export class ReadinessModel {
  @ApiProperty({ enum: ['ok', 'unavailable'] }) status!: string;
  @ApiProperty({
    description: '`nats` and each downstream service: users-docs, jobs, key-vault, user-details, identity',
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(HealthCheckModel) },
  })
  checks!: Record<string, HealthCheckModel>;
}

// ---- identity ----

export class AccountUserModel {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiPropertyOptional({ format: 'date' }) birth?: string;
  @ApiProperty({ description: 'Platform administrator' }) isAdmin!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class AuthResultModel {
  @ApiProperty({
    description: 'Access token (JWT, EdDSA, with `kid`); send as `Authorization: Bearer <jwt>`',
  })
  jwt!: string;
  @ApiProperty({
    description: 'Exchange at `POST /auth/refresh`; it rotates, and a reused one ends the session',
  })
  refreshToken!: string;
  @ApiProperty({ description: 'Seconds until `jwt` expires', example: 900 }) expiresIn!: number;
  @ApiProperty({ type: AccountUserModel }) user!: AccountUserModel;
}

export class JwkModel {
  @ApiProperty() kid!: string;
  @ApiProperty({ example: 'OKP' }) kty!: string;
  @ApiPropertyOptional({ example: 'EdDSA' }) alg?: string;
  @ApiPropertyOptional({ example: 'Ed25519' }) crv?: string;
  @ApiPropertyOptional() x?: string;
  @ApiPropertyOptional() y?: string;
  @ApiPropertyOptional({ example: 'sig' }) use?: string;
}

export class JwksModel {
  @ApiProperty({ type: [JwkModel] }) keys!: JwkModel[];
}

export class PersonalAccessTokenModel {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [String] }) scopes!: string[];
  @ApiProperty({ description: 'The first characters of the token', example: 'dfp_Ab12Cd' }) prefix!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiresAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) lastUsedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) revokedAt?: string;
}

export class CreatedPersonalAccessTokenModel extends PersonalAccessTokenModel {
  @ApiProperty({ description: 'The token, shown this once: send as `Authorization: Bearer dfp_...`' })
  token!: string;
}

export class PersonalAccessTokenPageModel {
  @ApiProperty({ type: [PersonalAccessTokenModel] }) items!: PersonalAccessTokenModel[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class TeamModel {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['owner', 'editor', 'reader', 'consumer'], description: 'Your role in it' })
  role!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class TeamPageModel {
  @ApiProperty({ type: [TeamModel] }) items!: TeamModel[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class TeamMemberModel {
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty({ enum: ['owner', 'editor', 'reader', 'consumer'] }) role!: string;
  @ApiProperty({ format: 'date-time' }) addedAt!: string;
}

export class TeamMemberListModel {
  @ApiProperty({ type: [TeamMemberModel] }) items!: TeamMemberModel[];
}

export class AuditEventModel {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'login.succeeded' }) type!: string;
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      "In a team's log only: the member the event concerns (who acted, or who was added or removed)",
  })
  userId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'The team the event concerns (its keys, its members)' })
  teamId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) actorId?: string;
  @ApiPropertyOptional() targetId?: string;
  @ApiPropertyOptional() ip?: string;
  @ApiPropertyOptional() userAgent?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) details?: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class AuditEventPageModel {
  @ApiProperty({ type: [AuditEventModel] }) items!: AuditEventModel[];
  @ApiPropertyOptional() nextCursor?: string;
}
