import { encodeEventKey, toMinioNotification } from './local-s3-server';

describe(toMinioNotification.name, () => {
  it('shapes an s3rver put event as MinIO posts it, with the key URL-encoded', () => {
    const sut = toMinioNotification({
      eventName: 'ObjectCreated:Put',
      eventTime: '2026-11-23T00:00:00.000Z',
      s3: {
        bucket: { name: 'docflow' },
        object: { key: 'users/u/docs/d/a b.txt', size: 3, eTag: 'e', sequencer: '1' },
      },
    });
    expect(sut).toMatchObject({
      EventName: 's3:ObjectCreated:Put',
      Key: 'docflow/users/u/docs/d/a b.txt',
      Records: [
        {
          eventSource: 'minio:s3',
          eventName: 's3:ObjectCreated:Put',
          s3: {
            bucket: { name: 'docflow' },
            object: { key: 'users%2Fu%2Fdocs%2Fd%2Fa+b.txt', size: 3, eTag: 'e' },
          },
        },
      ],
    });
  });

  it('encodes keys like Go url.QueryEscape', () => {
    expect(encodeEventKey('a b/c+d.txt')).toBe('a+b%2Fc%2Bd.txt');
  });
});
