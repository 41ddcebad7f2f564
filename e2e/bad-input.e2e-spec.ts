import { randomUUID } from 'node:crypto';
import { adminHeaders, json, startPlatform, type RunningPlatform } from './platform';

interface ErrorBody {
  error: { code: string; message: string; details?: { field: string; message: string }[]; requestId: string };
}

interface Case {
  name: string;
  method: string;
  path: (ctx: Ctx) => string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** A field that `details` must name. */
  field?: string;
  api?: 'public' | 'private';
}

interface Ctx {
  userId: string;
  otherUserId: string;
  docId: string;
}

const HUGE = 'x'.repeat(100_000);
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const validDoc = { name: 'a.txt', contentType: 'text/plain', size: 10 };

const users = () => `/users`;
const docs = (c: Ctx) => `/users/${c.userId}/docs`;
const doc = (c: Ctx) => `/users/${c.userId}/docs/${c.docId}`;
const webhook = () => `/webhooks/docs/status`;

const cases: Case[] = [
  // POST /users
  {
    name: 'create user: no body',
    method: 'POST',
    path: users,
    rawBody: '',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'create user: malformed JSON',
    method: 'POST',
    path: users,
    rawBody: '{"name":',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'create user: not JSON',
    method: 'POST',
    path: users,
    rawBody: 'name=a',
    headers: { 'content-type': 'text/plain' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'create user: unsupported media type',
    method: 'POST',
    path: users,
    rawBody: '<a/>',
    headers: { 'content-type': 'application/xml' },
    status: 415,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'create user: array body',
    method: 'POST',
    path: users,
    body: [{ name: 'a', email: 'a@example.com' }],
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'create user: missing name',
    method: 'POST',
    path: users,
    body: { email: 'a@example.com' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'create user: missing email',
    method: 'POST',
    path: users,
    body: { name: 'A' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'email',
  },
  {
    name: 'create user: unknown field',
    method: 'POST',
    path: users,
    body: { name: 'A', email: 'a@example.com', role: 'admin' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'role',
  },
  {
    name: 'create user: name of wrong type',
    method: 'POST',
    path: users,
    body: { name: 42, email: 'a@example.com' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'create user: email of wrong type',
    method: 'POST',
    path: users,
    body: { name: 'A', email: ['a@example.com'] },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'email',
  },
  {
    name: 'create user: huge name',
    method: 'POST',
    path: users,
    body: { name: HUGE, email: 'a@example.com' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'create user: blank name',
    method: 'POST',
    path: users,
    body: { name: '   ', email: 'a@example.com' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'create user: control characters in name',
    method: 'POST',
    path: users,
    body: { name: 'a\u0000b', email: 'a@example.com' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'create user: not an email',
    method: 'POST',
    path: users,
    body: { name: 'A', email: 'not-an-email' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'email',
  },
  {
    name: 'create user: huge email',
    method: 'POST',
    path: users,
    body: { name: 'A', email: `${HUGE}@example.com` },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'email',
  },
  {
    name: 'create user: body over 1 MB',
    method: 'POST',
    path: users,
    body: { name: 'x'.repeat(1_100_000), email: 'a@example.com' },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  // GET /users
  {
    name: 'list users: limit 0',
    method: 'GET',
    path: () => `${users()}?limit=0`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'limit',
  },
  {
    name: 'list users: limit 101',
    method: 'GET',
    path: () => `${users()}?limit=101`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'limit',
  },
  {
    name: 'list users: limit not a number',
    method: 'GET',
    path: () => `${users()}?limit=ten`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'limit',
  },
  {
    name: 'list users: limit fractional',
    method: 'GET',
    path: () => `${users()}?limit=1.5`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'limit',
  },
  {
    name: 'list users: forged cursor',
    method: 'GET',
    path: () => `${users()}?cursor=not-a-cursor`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'cursor',
  },
  {
    name: 'list users: huge cursor',
    method: 'GET',
    path: () => `${users()}?cursor=${'a'.repeat(600)}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'cursor',
  },
  {
    name: 'list users: unknown query parameter',
    method: 'GET',
    path: () => `${users()}?sort=name`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'sort',
  },
  // GET / DELETE /users/{id}
  {
    name: 'get user: malformed id',
    method: 'GET',
    path: () => '/users/123',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'user_id',
  },
  {
    name: 'get user: injection in id',
    method: 'GET',
    path: () => "/users/1'%20OR%20'1'='1",
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'user_id',
  },
  {
    name: 'get user: unknown',
    method: 'GET',
    path: () => `/users/${UNKNOWN}`,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'delete user: malformed id',
    method: 'DELETE',
    path: () => '/users/abc',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'user_id',
  },
  {
    name: 'delete user: unknown',
    method: 'DELETE',
    path: () => `/users/${UNKNOWN}`,
    status: 404,
    code: 'NOT_FOUND',
  },
  // GET /users/{id}/docs
  {
    name: 'list docs: malformed user id',
    method: 'GET',
    path: () => '/users/xyz/docs',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'user_id',
  },
  {
    name: 'list docs: unknown user',
    method: 'GET',
    path: () => `/users/${UNKNOWN}/docs`,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'list docs: limit too big',
    method: 'GET',
    path: (c) => `${docs(c)}?limit=1000`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'limit',
  },
  {
    name: 'list docs: forged cursor',
    method: 'GET',
    path: (c) => `${docs(c)}?cursor=${Buffer.from('["x","y"]').toString('base64url')}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'cursor',
  },
  // POST /users/{id}/docs
  {
    name: 'create doc: malformed user id',
    method: 'POST',
    path: () => '/users/nope/docs',
    body: validDoc,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'user_id',
  },
  {
    name: 'create doc: unknown user',
    method: 'POST',
    path: () => `/users/${UNKNOWN}/docs`,
    body: validDoc,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'create doc: missing name',
    method: 'POST',
    path: docs,
    body: { contentType: 'text/plain', size: 1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'create doc: missing contentType',
    method: 'POST',
    path: docs,
    body: { name: 'a', size: 1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'contentType',
  },
  {
    name: 'create doc: missing size',
    method: 'POST',
    path: docs,
    body: { name: 'a', contentType: 'text/plain' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'size',
  },
  {
    name: 'create doc: unknown field',
    method: 'POST',
    path: docs,
    body: { ...validDoc, status: 'uploaded' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'status',
  },
  {
    name: 'create doc: size as string',
    method: 'POST',
    path: docs,
    body: { ...validDoc, size: '10' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'size',
  },
  {
    name: 'create doc: negative size',
    method: 'POST',
    path: docs,
    body: { ...validDoc, size: -1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'size',
  },
  {
    name: 'create doc: zero size',
    method: 'POST',
    path: docs,
    body: { ...validDoc, size: 0 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'size',
  },
  {
    name: 'create doc: fractional size',
    method: 'POST',
    path: docs,
    body: { ...validDoc, size: 1.5 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'size',
  },
  {
    name: 'create doc: oversize (100 MB + 1)',
    method: 'POST',
    path: docs,
    body: { ...validDoc, size: 100 * 1024 * 1024 + 1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'size',
  },
  {
    name: 'create doc: absurd size',
    method: 'POST',
    path: docs,
    body: { ...validDoc, size: 1e30 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'size',
  },
  {
    name: 'create doc: huge name',
    method: 'POST',
    path: docs,
    body: { ...validDoc, name: HUGE },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'create doc: name with a slash',
    method: 'POST',
    path: docs,
    body: { ...validDoc, name: '../etc/passwd' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'create doc: name with a newline',
    method: 'POST',
    path: docs,
    body: { ...validDoc, name: 'a\nb.txt' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'create doc: bad content type',
    method: 'POST',
    path: docs,
    body: { ...validDoc, contentType: 'text' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'contentType',
  },
  {
    name: 'create doc: content type with CRLF',
    method: 'POST',
    path: docs,
    body: { ...validDoc, contentType: 'text/plain\r\nX-Evil: 1' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'contentType',
  },
  {
    name: 'create doc: null body fields',
    method: 'POST',
    path: docs,
    body: { name: null, contentType: null, size: null },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'size',
  },
  {
    name: 'create doc: NUL inside a quoted media type parameter',
    method: 'POST',
    path: docs,
    body: { ...validDoc, contentType: 'text/plain; a="x\u0000y"' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'contentType',
  },
  {
    name: 'list docs: cursor dated in year -200000',
    method: 'GET',
    path: (c) =>
      `${docs(c)}?cursor=${Buffer.from('["-200000-01-01T00:00:00.000Z","3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f"]').toString('base64url')}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'cursor',
  },
  // GET / DELETE /users/{id}/docs/{doc}
  {
    name: 'get doc: malformed doc id',
    method: 'GET',
    path: (c) => `${docs(c)}/1`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'doc_id',
  },
  {
    name: 'get doc: unknown doc',
    method: 'GET',
    path: (c) => `${docs(c)}/${UNKNOWN}`,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: "get doc: another user's doc",
    method: 'GET',
    path: (c) => `/users/${c.otherUserId}/docs/${c.docId}`,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'delete doc: malformed doc id',
    method: 'DELETE',
    path: (c) => `${docs(c)}/zz`,
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'doc_id',
  },
  {
    name: 'delete doc: unknown doc',
    method: 'DELETE',
    path: (c) => `${docs(c)}/${UNKNOWN}`,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: "delete doc: another user's doc",
    method: 'DELETE',
    path: (c) => `/users/${c.otherUserId}/docs/${c.docId}`,
    status: 404,
    code: 'NOT_FOUND',
  },
  // unknown routes and methods
  { name: 'unknown route', method: 'GET', path: () => '/nothing-here', status: 404, code: 'NOT_FOUND' },
  { name: 'unsupported method', method: 'PATCH', path: doc, body: {}, status: 404, code: 'NOT_FOUND' },
  // private webhook
  {
    name: 'webhook: no token',
    api: 'private',
    method: 'POST',
    path: webhook,
    body: { Records: [] },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'webhook: forged token',
    api: 'private',
    method: 'POST',
    path: webhook,
    body: { Records: [] },
    headers: { authorization: 'Bearer forged-token-forged-token' },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'webhook: token without Bearer',
    api: 'private',
    method: 'POST',
    path: webhook,
    body: { Records: [] },
    headers: { authorization: 'RAWTOKEN' },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'webhook (old spelling): forged token',
    api: 'private',
    method: 'POST',
    path: () => '/webooks/docs/status',
    body: { Records: [] },
    headers: { authorization: 'Bearer nope' },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'webhook: no Records',
    api: 'private',
    method: 'POST',
    path: webhook,
    body: { EventName: 'x' },
    headers: { authorization: 'TOKEN' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'Records',
  },
  {
    name: 'webhook: Records not an array',
    api: 'private',
    method: 'POST',
    path: webhook,
    body: { Records: 'x' },
    headers: { authorization: 'TOKEN' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'Records',
  },
  {
    name: 'webhook: record without key',
    api: 'private',
    method: 'POST',
    path: webhook,
    body: {
      Records: [{ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'docflow' }, object: {} } }],
    },
    headers: { authorization: 'TOKEN' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'Records[0].s3.object.key',
  },
  {
    name: 'webhook: size as string',
    api: 'private',
    method: 'POST',
    path: webhook,
    body: {
      Records: [
        {
          eventName: 's3:ObjectCreated:Put',
          s3: { bucket: { name: 'docflow' }, object: { key: 'k', size: '3' } },
        },
      ],
    },
    headers: { authorization: 'TOKEN' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'Records[0].s3.object.size',
  },
  {
    name: 'webhook: NUL in a key',
    api: 'private',
    method: 'POST',
    path: webhook,
    body: {
      Records: [
        {
          eventName: 's3:ObjectCreated:Put',
          s3: { bucket: { name: 'docflow' }, object: { key: 'users%2Fa%00b', size: 1 } },
        },
      ],
    },
    headers: { authorization: 'TOKEN' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'Records.s3.object.key',
  },
  {
    name: 'webhook: malformed JSON',
    api: 'private',
    method: 'POST',
    path: webhook,
    rawBody: '{',
    headers: { authorization: 'TOKEN', 'content-type': 'application/json' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
];

describe('bad input gets a 4xx with the error body, never a 500', () => {
  let platform: RunningPlatform;
  let ctx: Ctx;

  beforeAll(async () => {
    platform = await startPlatform('badinput');
    const make = async () =>
      (
        await json<{ id: string }>(`${platform.api}/users`, {
          method: 'POST',
          body: { name: 'U', email: `u-${randomUUID()}@example.com` },
        })
      ).body.id;
    const userId = await make();
    const otherUserId = await make();
    const created = await json<{ id: string }>(`${platform.api}/users/${userId}/docs`, {
      method: 'POST',
      body: validDoc,
    });
    ctx = { userId, otherUserId, docId: created.body.id };
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const base = c.api === 'private' ? platform.privateApi : platform.api;
    const headers: Record<string, string> = { ...(c.api === 'private' ? {} : adminHeaders()), ...c.headers };
    if (headers.authorization === 'TOKEN') headers.authorization = `Bearer ${platform.webhookToken}`;
    if (headers.authorization === 'RAWTOKEN') headers.authorization = platform.webhookToken;
    const res = await fetch(`${base}${c.path(ctx)}`, {
      method: c.method,
      headers: { ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: c.rawBody !== undefined ? c.rawBody : c.body !== undefined ? JSON.stringify(c.body) : undefined,
    });
    const body = (await res.json()) as ErrorBody;
    expect({ status: res.status, code: body.error?.code }).toEqual({ status: c.status, code: c.code });
    expect(body.error.message).toEqual(expect.any(String));
    expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
    if (c.field) {
      expect(body.error.details?.map((d) => d.field)).toContain(c.field);
    }
    expect(JSON.stringify(body)).not.toMatch(/stack|at .*\.js:\d+/);
  });

  it('changed nothing while refusing all of that', async () => {
    const list = await json<{ items: { id: string; status: string }[] }>(
      `${platform.api}/users/${ctx.userId}/docs`,
    );
    expect(list.body.items).toEqual([expect.objectContaining({ id: ctx.docId, status: 'pending_upload' })]);
    const other = await json<{ items: unknown[] }>(`${platform.api}/users/${ctx.otherUserId}/docs`);
    expect(other.body.items).toEqual([]);
  });
});
