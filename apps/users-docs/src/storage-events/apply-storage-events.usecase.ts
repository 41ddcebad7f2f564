import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  ApplyStorageEventsRequest,
  ApplyStorageEventsResult,
  StorageEventOutcome,
  StorageEventRecord,
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
      await this.storage.delete(record.key);
      return { outcome: 'orphan_removed', ...(document ? { documentId: document.id } : {}) };
    }
    if (document.status === 'rejected') return { outcome: 'unchanged', documentId: document.id };

    const etag = record.eTag?.replace(/"/g, '') || null;
    // MinIO and S3 always send the size; look it up when a sender left it out.
    const size = record.size ?? (await this.storage.head(record.key))?.size;
    if (size === undefined) return { outcome: 'ignored', documentId: document.id };
    if (size !== document.size) {
      const reason = `size mismatch: declared ${document.size} bytes, stored ${size} bytes`;
      const changed = await this.documents.transition(document.id, ['pending_upload', 'uploaded'], {
        status: 'rejected',
        statusReason: reason,
        etag,
        updatedAt: now,
      });
      if (changed) await this.storage.delete(record.key);
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
}
