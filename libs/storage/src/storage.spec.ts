import { ObjectStorage, attachmentDisposition } from './storage';

const config = {
  bucket: 'docflow',
  region: 'us-east-1',
  endpoint: 'http://minio:9000',
  publicEndpoint: 'https://files.example.com',
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  forcePathStyle: true,
};

describe(ObjectStorage.name, () => {
  const sut = new ObjectStorage(config);
  afterAll(() => sut.destroy());

  describe('presignPut', () => {
    it('signs a PUT of exactly this key, type and length for the public endpoint', async () => {
      const before = Date.now();
      const out = await sut.presignPut({
        key: 'users/u1/docs/d1/report.pdf',
        contentType: 'application/pdf',
        contentLength: 1234,
        expiresInSeconds: 900,
      });
      const url = new URL(out.url);
      expect(url.origin).toBe('https://files.example.com');
      expect(url.pathname).toBe('/docflow/users/u1/docs/d1/report.pdf');
      expect(url.searchParams.get('x-id')).toBe('PutObject');
      expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
      expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
      expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual([
        'content-length',
        'content-type',
        'host',
      ]);
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(
        /^AKIDEXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request$/,
      );
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      // The content type is a signed header the client must send, not a query parameter anyone could drop.
      expect(url.searchParams.has('Content-Type')).toBe(false);
      expect(out.headers).toEqual({ 'Content-Type': 'application/pdf', 'Content-Length': '1234' });
      expect(out.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 900_000);
      expect(out.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 900_000);
    });

    it('leaves the length unsigned when none is given', async () => {
      const out = await sut.presignPut({ key: 'k', contentType: 'text/plain', expiresInSeconds: 60 });
      const url = new URL(out.url);
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-type;host');
      expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
      expect(out.headers).toEqual({ 'Content-Type': 'text/plain' });
    });

    it('never leaks the secret key into the URL', async () => {
      const out = await sut.presignPut({ key: 'k', contentType: 'text/plain', expiresInSeconds: 60 });
      expect(out.url).not.toContain(config.secretAccessKey);
      expect(decodeURIComponent(out.url)).not.toContain(config.secretAccessKey);
    });
  });

  describe('presignGet', () => {
    it('signs a GET for the public endpoint with the download name and type', async () => {
      const out = await sut.presignGet({
        key: 'users/u1/docs/d1/report.pdf',
        expiresInSeconds: 300,
        downloadName: 'Q3 report.pdf',
        contentType: 'application/pdf',
      });
      const url = new URL(out.url);
      expect(url.origin).toBe('https://files.example.com');
      expect(url.pathname).toBe('/docflow/users/u1/docs/d1/report.pdf');
      expect(url.searchParams.get('x-id')).toBe('GetObject');
      expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
      expect(url.searchParams.get('response-content-type')).toBe('application/pdf');
      expect(url.searchParams.get('response-content-disposition')).toBe(
        attachmentDisposition('Q3 report.pdf'),
      );
    });
  });

  it('presigns for the internal endpoint when no public one is set', async () => {
    const internal = new ObjectStorage({ ...config, publicEndpoint: undefined });
    const out = await internal.presignGet({ key: 'k', expiresInSeconds: 60 });
    expect(new URL(out.url).origin).toBe('http://minio:9000');
    internal.destroy();
  });

  it('refuses to delete by a prefix that is not a folder', async () => {
    await expect(sut.deletePrefix('users/u1')).rejects.toThrow(/must end with \//);
    await expect(sut.deletePrefix('')).rejects.toThrow();
  });
});

describe(attachmentDisposition.name, () => {
  it('gives an ASCII fallback and the UTF-8 name', () => {
    expect(attachmentDisposition('résumé "final".pdf')).toBe(
      `attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
    );
  });
});

describe('presigned download reuse', () => {
  afterEach(() => jest.useRealTimers());

  it('reuses a URL while at least half its lifetime remains, then signs a new one', async () => {
    jest.useFakeTimers({ now: new Date('2026-11-23T10:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    const sut = new ObjectStorage(config);
    const first = await sut.presignGet({ key: 'k', version: 'v1', expiresInSeconds: 600 });
    jest.setSystemTime(new Date('2026-11-23T10:04:59Z'));
    expect(await sut.presignGet({ key: 'k', version: 'v1', expiresInSeconds: 600 })).toBe(first);
    jest.setSystemTime(new Date('2026-11-23T10:05:01Z'));
    const second = await sut.presignGet({ key: 'k', version: 'v1', expiresInSeconds: 600 });
    expect(second.url).not.toBe(first.url);
    expect(second.expiresAt.getTime()).toBe(new Date('2026-11-23T10:15:01Z').getTime());
    sut.destroy();
  });

  it('signs anew for another version of the object or another download name', async () => {
    const sut = new ObjectStorage(config);
    const a = await sut.presignGet({ key: 'k', version: 'v1', expiresInSeconds: 600 });
    expect(await sut.presignGet({ key: 'k', version: 'v2', expiresInSeconds: 600 })).not.toBe(a);
    expect(
      await sut.presignGet({ key: 'k', version: 'v1', expiresInSeconds: 600, downloadName: 'x.txt' }),
    ).not.toBe(a);
    sut.destroy();
  });

  it('never reuses when the cache is off', async () => {
    const sut = new ObjectStorage({ ...config, presignCacheSize: 0 });
    const a = await sut.presignGet({ key: 'k', expiresInSeconds: 600 });
    expect(await sut.presignGet({ key: 'k', expiresInSeconds: 600 })).not.toBe(a);
    sut.destroy();
  });
});

describe('credentials', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('uses the AWS default chain when no keys are configured', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFROMTHEENVIRONMENT';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-from-the-environment';
    const sut = new ObjectStorage({ bucket: 'b', region: 'us-east-1', forcePathStyle: true });
    const out = await sut.presignGet({ key: 'k', expiresInSeconds: 60 });
    expect(new URL(out.url).searchParams.get('X-Amz-Credential')).toMatch(/^AKIAFROMTHEENVIRONMENT\//);
    sut.destroy();
  });
});
