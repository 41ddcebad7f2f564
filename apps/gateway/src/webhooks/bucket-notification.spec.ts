import { ErrorCode } from '@docflow/contracts';
import { parseBucketNotification } from './bucket-notification';

const minioBody = {
  EventName: 's3:ObjectCreated:Put',
  Key: 'docflow/users/u/docs/d/my+file.txt',
  Records: [
    {
      eventVersion: '2.0',
      eventSource: 'minio:s3',
      eventName: 's3:ObjectCreated:Put',
      s3: {
        bucket: { name: 'docflow', arn: 'arn:aws:s3:::docflow' },
        object: { key: 'users%2Fu%2Fdocs%2Fd%2Fmy+file.txt', size: 12, eTag: 'abc', sequencer: '17' },
      },
    },
  ],
};

describe(parseBucketNotification.name, () => {
  it('reads a MinIO notification and decodes the key', () => {
    expect(parseBucketNotification(minioBody)).toEqual([
      {
        eventName: 's3:ObjectCreated:Put',
        bucket: 'docflow',
        key: 'users/u/docs/d/my file.txt',
        size: 12,
        eTag: 'abc',
        sequencer: '17',
      },
    ]);
  });

  it.each([
    ['no body', undefined, 'body'],
    ['no Records', {}, 'Records'],
    ['empty Records', { Records: [] }, 'Records'],
    [
      'no key',
      { Records: [{ eventName: 'x', s3: { bucket: { name: 'b' }, object: {} } }] },
      'Records[0].s3.object.key',
    ],
    [
      'size as string',
      { Records: [{ eventName: 'x', s3: { bucket: { name: 'b' }, object: { key: 'k', size: '1' } } }] },
      'Records[0].s3.object.size',
    ],
  ])('rejects %s naming %s', (_label, body, field) => {
    expect(() => parseBucketNotification(body)).toThrow(
      expect.objectContaining({
        code: ErrorCode.VALIDATION_FAILED,
        details: expect.arrayContaining([expect.objectContaining({ field })]),
      }),
    );
  });

  it('rejects a key that is not valid URL encoding', () => {
    const body = {
      Records: [{ eventName: 'x', s3: { bucket: { name: 'b' }, object: { key: '%E0%A4%A' } } }],
    };
    expect(() => parseBucketNotification(body)).toThrow(
      expect.objectContaining({ code: ErrorCode.VALIDATION_FAILED }),
    );
  });
});
