import { z } from 'zod';
import { DomainError, ErrorCode, type StorageEventRecord } from '@docflow/contracts';

/**
 * The S3 / MinIO bucket notification body. Only the fields docflow reads are checked; the many others
 * that MinIO and S3 send are let through.
 */
const recordSchema = z.looseObject({
  eventName: z.string().min(1).max(128),
  s3: z.looseObject({
    bucket: z.looseObject({ name: z.string().min(1).max(255) }),
    object: z.looseObject({
      key: z.string().min(1).max(2048),
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().max(256).optional(),
      sequencer: z.string().max(256).optional(),
    }),
  }),
});

const notificationSchema = z.looseObject({
  Records: z.array(recordSchema).min(1).max(1000),
});

/** Keys arrive URL-encoded, spaces as `+` (as S3 and MinIO send them). */
function decodeKey(key: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    throw DomainError.validation('Records.s3.object.key', 'is not a URL-encoded object key');
  }
  if (/\p{Cc}/u.test(decoded))
    throw DomainError.validation('Records.s3.object.key', 'must not contain control characters');
  return decoded;
}

export function parseBucketNotification(body: unknown): StorageEventRecord[] {
  const result = notificationSchema.safeParse(body);
  if (!result.success) {
    const details = result.error.issues.map((issue) => ({
      field:
        issue.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '') || 'body',
      message: issue.message,
    }));
    throw new DomainError(
      ErrorCode.VALIDATION_FAILED,
      details.map((d) => `${d.field}: ${d.message}`).join('; '),
      details,
    );
  }
  return result.data.Records.map((record) => ({
    eventName: record.eventName,
    bucket: record.s3.bucket.name,
    key: decodeKey(record.s3.object.key),
    ...(record.s3.object.size !== undefined ? { size: record.s3.object.size } : {}),
    ...(record.s3.object.eTag ? { eTag: record.s3.object.eTag } : {}),
    ...(record.s3.object.sequencer ? { sequencer: record.s3.object.sequencer } : {}),
  }));
}
