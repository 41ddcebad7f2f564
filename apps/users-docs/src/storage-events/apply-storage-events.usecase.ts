import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  type ApplyStorageEventsRequest,
  type ApplyStorageEventsResult,
  type StorageEventOutcome,
  type StorageEventRecord,
} from '@docflow/contracts';
import { ObjectStorage } from '@docflow/storage';
import { Clock } from '../common/clock';
import { DocumentsRepository } from '../documents/documents.repository';
import { parseDocumentObjectKey } from '../documents/object-keys';

function kindOf(eventName: string): 'created' | 'removed' | 'other' {
  const name = eventName.replace(/^s3:/, '');
  if (name.startsWith('ObjectCreated:')) return 'created';
  if (name.startsWith('ObjectRemoved:')) return 'removed';
  return 'other';
}

/**
 * Applies bucket notifications (S3 / MinIO) to documents. Each record is handled on its own and
 * idempotently: document transitions are conditional on the current status, so a repeated or late
 * event changes nothing.
 *
 * - ObjectCreated on a pending document: `uploaded` when the stored size equals the declared one,
 *   otherwise `rejected` with the reason, and the object is removed.
 * - ObjectCreated for a key whose document is deleted or unknown: the object is an orphan (an upload
 *   that landed after a delete) and is removed.
 * - ObjectRemoved on a pending or uploaded document: `deleted`.
 *
 * When storage fails (removing a rejected or orphan object), the call fails with STORAGE_UNAVAILABLE, the
 * webhook answers 503 and the sender retries; removal is repeated on every later event for the key, so a
 * failed removal is never forgotten.
 */
@Injectable()
export class ApplyStorageEventsUseCase {
  private readonly logger = new Logger(ApplyStorageEventsUseCase.name);

  constructor(
    private readonly documents: DocumentsRepository,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    private readonly clock: Clock,
  ) {}

  async execute(request: ApplyStorageEventsRequest): Promise<ApplyStorageEventsResult> {
    const results: ApplyStorageEventsResult['results'] = [];
    for (const record of request.records) {
      const { outcome, documentId } = await this.apply(record);
      results.push({
        key: record.key,
        eventName: record.eventName,
        outcome,
        ...(documentId ? { documentId } : {}),
      });
      if (outcome !== 'unchanged' && outcome !== 'ignored') {
        this.logger.log({
          msg: 'storage event applied',
          objectKey: record.key,
          eventName: record.eventName,
          outcome,
          documentId,
        });
      }
    }
    return { results };
  }

  private async apply(
    record: StorageEventRecord,
  ): Promise<{ outcome: StorageEventOutcome; documentId?: string }> {
    const kind = kindOf(record.eventName);
    if (kind === 'other' || record.bucket !== this.storage.bucket || !parseDocumentObjectKey(record.key)) {
      return { outcome: 'ignored' };
    }
    const document = await this.documents.findByObjectKey(record.key);
    const now = this.clock.now();

    if (kind === 'removed') {
      if (!document) return { outcome: 'ignored' };
      const changed = await this.documents.transition(document.id, ['pending_upload', 'uploaded'], {
        status: 'deleted',
        statusReason: 'the object was removed from storage',
        deletedAt: now,
        updatedAt: now,
      });
      return { outcome: changed ? 'deleted' : 'unchanged', documentId: document.id };
    }

    if (!document || document.status === 'deleted') {
      await this.removeObject(record.key);
      return { outcome: 'orphan_removed', ...(document ? { documentId: document.id } : {}) };
    }
    if (document.status === 'rejected') {
      // Removed when it was rejected; removed again in case that removal failed.
      await this.removeObject(record.key);
      return { outcome: 'unchanged', documentId: document.id };
    }

    const etag = record.eTag?.replace(/"/g, '') || null;
    // MinIO and S3 always send the size; look it up when a sender left it out.
    const size = record.size ?? (await this.storageCall(() => this.storage.head(record.key)))?.size;
    if (size === undefined) return { outcome: 'ignored', documentId: document.id };
    if (size !== document.size) {
      const reason = `size mismatch: declared ${document.size} bytes, stored ${size} bytes`;
      const changed = await this.documents.transition(document.id, ['pending_upload', 'uploaded'], {
        status: 'rejected',
        statusReason: reason,
        etag,
        updatedAt: now,
      });
      await this.removeObject(record.key);
      return { outcome: changed ? 'rejected' : 'unchanged', documentId: document.id };
    }

    if (document.status === 'uploaded') {
      if (etag && etag !== document.etag) {
        // The same presigned URL was used again within its lifetime: same size, new content.
        await this.documents.transition(document.id, ['uploaded'], { etag, updatedAt: now });
      }
      return { outcome: 'unchanged', documentId: document.id };
    }

    const changed = await this.documents.transition(document.id, ['pending_upload'], {
      status: 'uploaded',
      statusReason: null,
      etag,
      uploadedAt: now,
      updatedAt: now,
    });
    return { outcome: changed ? 'uploaded' : 'unchanged', documentId: document.id };
  }

  private removeObject(key: string): Promise<void> {
    return this.storageCall(() => this.storage.delete(key));
  }

  private async storageCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.logger.warn({ msg: 'object storage call failed', error: (error as Error).message });
      throw new DomainError(
        ErrorCode.STORAGE_UNAVAILABLE,
        'Object storage is unavailable; retry the notification',
      );
    }
  }
}
