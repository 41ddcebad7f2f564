import { randomBytes, randomUUID } from 'node:crypto';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { waitFor } from '@docflow/local-platform';
import { json, startPlatform, type RunningPlatform } from './platform';

interface Doc {
  id: string;
  status: string;
  statusReason?: string;
  etag?: string;
  size: number;
  upload: { url: string; method: string; headers: Record<string, string>; expiresAt: string };
  download?: { url: string; expiresAt: string };
}

describe('documents through the local platform', () => {
  let platform: RunningPlatform;
  let s3: S3Client;

  beforeAll(async () => {
    platform = await startPlatform('docs');
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: platform.s3Endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  });

  afterAll(async () => {
    s3?.destroy();
    await platform?.stop();
  });

  async function newUser(): Promise<string> {
    const res = await json<{ id: string }>(`${platform.api}/users`, {
      method: 'POST',
      body: { name: 'Test User', email: `u-${randomUUID()}@example.com` },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function newDocument(
    userId: string,
    bytes: Buffer,
    name = 'notes.txt',
    contentType = 'text/plain',
  ): Promise<Doc> {
    const res = await json<Doc>(`${platform.api}/users/${userId}/docs`, {
      method: 'POST',
      body: { name, contentType, size: bytes.length },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function put(doc: Doc, bytes: Buffer): Promise<number> {
    const { ['Content-Length']: _length, ...headers } = doc.upload.headers;
    const res = await fetch(doc.upload.url, { method: doc.upload.method, headers, body: bytes });
    await res.arrayBuffer();
    return res.status;
  }

  async function statusOf(userId: string, docId: string): Promise<Doc> {
    return (await json<Doc>(`${platform.api}/users/${userId}/docs/${docId}`)).body;
  }

  async function objectExists(key: string): Promise<boolean> {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: 'docflow', Key: key }));
      return true;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        return false;
      throw error;
    }
  }

  const keyOf = (doc: Doc) =>
    decodeURIComponent(new URL(doc.upload.url).pathname.replace(/^\/docflow\//, ''));

  it('walks a document through create → upload → uploaded → download → delete', async () => {
    const userId = await newUser();
    const bytes = randomBytes(64 * 1024);
    const doc = await newDocument(userId, bytes, 'Quarterly report.bin', 'application/octet-stream');
    expect(doc).toMatchObject({ status: 'pending_upload', size: bytes.length, upload: { method: 'PUT' } });
    expect(keyOf(doc)).toBe(`users/${userId}/docs/${doc.id}/Quarterly_report.bin`);

    // Before the upload there is nothing to download.
    expect((await statusOf(userId, doc.id)).download).toBeUndefined();

    expect(await put(doc, bytes)).toBe(200);
    const uploaded = await waitFor(
      async () => {
        const current = await statusOf(userId, doc.id);
        return current.status === 'uploaded' ? current : undefined;
      },
      { description: 'the storage event to mark the document uploaded' },
    );

    const download = await fetch(uploaded.download!.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain('Quarterly report.bin');
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);

    const list = await json<{ items: { id: string; download?: unknown; upload?: unknown }[] }>(
      `${platform.api}/users/${userId}/docs`,
    );
    expect(list.body.items.map((d) => d.id)).toEqual([doc.id]);
    expect(list.body.items[0]).not.toHaveProperty('download');
    expect(list.body.items[0]).not.toHaveProperty('upload');

    const deleted = await fetch(`${platform.api}/users/${userId}/docs/${doc.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(await objectExists(keyOf(doc))).toBe(false);
    expect((await json(`${platform.api}/users/${userId}/docs/${doc.id}`)).status).toBe(404);
    expect((await json<{ items: unknown[] }>(`${platform.api}/users/${userId}/docs`)).body.items).toEqual([]);
  });

  it('treats an upper-case user id as the same user, end to end', async () => {
    const userId = await newUser();
    const upper = userId.toUpperCase();
    const bytes = Buffer.from('upper-case ids');
    const created = await json<Doc>(`${platform.api}/users/${upper}/docs`, {
      method: 'POST',
      body: { name: 'u.txt', contentType: 'text/plain', size: bytes.length },
    });
    expect(created.status).toBe(201);
    expect(keyOf(created.body)).toBe(`users/${userId}/docs/${created.body.id}/u.txt`);
    expect(await put(created.body, bytes)).toBe(200);
    await waitFor(async () => (await statusOf(upper, created.body.id.toUpperCase())).status === 'uploaded');
    expect((await fetch(`${platform.api}/users/${upper}`, { method: 'DELETE' })).status).toBe(204);
    expect(await objectExists(keyOf(created.body))).toBe(false);
  });

  it('rejects an upload whose size differs from the declared one and removes the object', async () => {
    const userId = await newUser();
    const doc = await newDocument(userId, Buffer.alloc(10, 1));
    // s3rver does not check signatures, so the length the URL signs is not enforced here; the event check is.
    expect(await put(doc, Buffer.alloc(25, 1))).toBe(200);
    const rejected = await waitFor(async () => {
      const current = await statusOf(userId, doc.id);
      return current.status === 'rejected' ? current : undefined;
    });
    expect(rejected.statusReason).toBe('size mismatch: declared 10 bytes, stored 25 bytes');
    expect(rejected.download).toBeUndefined();
    await waitFor(async () => !(await objectExists(keyOf(doc))), {
      description: 'the rejected object to be removed',
    });
  });

  it('applies the same storage event twice without changing anything', async () => {
    const userId = await newUser();
    const bytes = Buffer.from('same event twice');
    const doc = await newDocument(userId, bytes);
    expect(await put(doc, bytes)).toBe(200);
    const first = await waitFor(async () => {
      const current = await statusOf(userId, doc.id);
      return current.status === 'uploaded' ? current : undefined;
    });
    const event = {
      EventName: 's3:ObjectCreated:Put',
      Records: [
        {
          eventName: 's3:ObjectCreated:Put',
          s3: {
            bucket: { name: 'docflow' },
            object: { key: encodeURIComponent(keyOf(doc)), size: bytes.length, eTag: first.etag },
          },
        },
      ],
    };
    for (const path of ['webhooks', 'webooks']) {
      const res = await json<{ results: { outcome: string }[] }>(
        `${platform.privateApi}/${path}/docs/status`,
        {
          method: 'POST',
          body: event,
          headers: { authorization: `Bearer ${platform.webhookToken}` },
        },
      );
      expect(res.status).toBe(200);
      expect(res.body.results).toEqual([
        expect.objectContaining({ outcome: 'unchanged', documentId: doc.id }),
      ]);
    }
    const after = await statusOf(userId, doc.id);
    expect({ ...after, download: undefined }).toEqual({ ...first, download: undefined });
  });

  it('deletes a user with their documents and objects', async () => {
    const userId = await newUser();
    const docs: Doc[] = [];
    for (let i = 0; i < 3; i++) {
      const bytes = Buffer.from(`document ${i}`);
      const doc = await newDocument(userId, bytes, `doc-${i}.txt`);
      expect(await put(doc, bytes)).toBe(200);
      docs.push(doc);
    }
    await waitFor(async () => {
      const list = await json<{ items: { status: string }[] }>(`${platform.api}/users/${userId}/docs`);
      return list.body.items.every((d) => d.status === 'uploaded');
    });
    const res = await fetch(`${platform.api}/users/${userId}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    for (const doc of docs) expect(await objectExists(keyOf(doc))).toBe(false);
    expect((await json(`${platform.api}/users/${userId}`)).status).toBe(404);
    expect((await json(`${platform.api}/users/${userId}/docs`)).status).toBe(404);
    expect((await json(`${platform.api}/users/${userId}/docs/${docs[0]!.id}`)).status).toBe(404);
  });

  it('pages through documents with limit and cursor, newest first, each exactly once', async () => {
    const userId = await newUser();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await newDocument(userId, Buffer.from('x'), `p${i}.txt`)).id);
    const seen: { id: string; createdAt: string }[] = [];
    let cursor: string | undefined;
    do {
      const page = await json<{ items: { id: string; createdAt: string }[]; nextCursor?: string }>(
        `${platform.api}/users/${userId}/docs?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((d) => d.id).sort()).toEqual([...ids].sort());
    const order = (a: { id: string; createdAt: string }, b: typeof a) =>
      b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
    expect(seen).toEqual([...seen].sort(order));
  });

  it('lists users with pagination and rejects a duplicate email with 409', async () => {
    const email = `dup-${randomUUID()}@example.com`;
    expect((await json(`${platform.api}/users`, { method: 'POST', body: { name: 'A', email } })).status).toBe(
      201,
    );
    const dup = await json<{ error: { code: string; details: unknown } }>(`${platform.api}/users`, {
      method: 'POST',
      body: { name: 'B', email: email.toUpperCase() },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({
      code: 'CONFLICT',
      details: [{ field: 'email', message: 'is already registered' }],
    });
    const page = await json<{ items: { email: string }[]; nextCursor?: string }>(
      `${platform.api}/users?limit=1`,
    );
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.nextCursor).toEqual(expect.any(String));
  });

  it('echoes the caller request id and makes one when there is none', async () => {
    const given = await fetch(`${platform.api}/users?limit=1`, {
      headers: { 'x-request-id': 'e2e-trace-42' },
    });
    expect(given.headers.get('x-request-id')).toBe('e2e-trace-42');
    const made = await json<{ error: { requestId: string } }>(`${platform.api}/users/${randomUUID()}`);
    expect(made.status).toBe(404);
    expect(made.headers.get('x-request-id')).toBe(made.body.error.requestId);
  });

  it('serves health: live, and ready only when NATS and every service answers', async () => {
    expect((await json(`${platform.health}/live`)).body).toEqual({ status: 'ok' });
    expect((await json(`${platform.health}/ready`)).body).toEqual({
      status: 'ok',
      checks: {
        nats: { status: 'ok' },
        'users-docs': { status: 'ok' },
        jobs: { status: 'ok' },
        'key-vault': { status: 'ok' },
        'user-details': { status: 'ok' },
      },
    });
  });
});
