import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OpenAPIObject, OperationObject, ParameterObject, ResponseObject } from '@nestjs/swagger';
import { buildOpenApiDocuments, serialize } from './openapi';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Every operation of a description as `METHOD path`. */
function operations(document: OpenAPIObject): [string, OperationObject][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map(
      (m) => [`${m.toUpperCase()} ${path}`, item[m]!] as [string, OperationObject],
    ),
  );
}

const responses = (operation: OperationObject) => operation.responses as Record<string, ResponseObject>;

/** The routes marked `@Public()` (public-routes.spec.ts checks the same list against the guard's metadata). */
const PUBLIC_OPERATIONS = [
  'POST /api/v1/auth/signup',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/refresh',
  'GET /api/v1/auth/.well-known/jwks.json',
  'GET /health/live',
  'GET /health/ready',
];

describe(buildOpenApiDocuments.name, () => {
  let docs: Awaited<ReturnType<typeof buildOpenApiDocuments>>;

  beforeAll(async () => {
    docs = await buildOpenApiDocuments();
  });

  it.each([
    ['public', 'docs/openapi.json'],
    ['private', 'docs/openapi.private.json'],
  ] as const)(
    'the committed %s description matches the code (run `npm run openapi` after an API change)',
    (which, file) => {
      const committed = readFileSync(resolve(__dirname, '../../..', file), 'utf8');
      expect(committed).toBe(serialize(docs[which]));
    },
  );

  it("gives every guarded operation the guard's 401 and 403 and the bearer security; public ones neither", () => {
    const all = operations(docs.public);
    expect(all.map(([name]) => name)).toEqual(expect.arrayContaining(PUBLIC_OPERATIONS));
    for (const [name, operation] of all) {
      const codes = Object.keys(responses(operation));
      if (PUBLIC_OPERATIONS.includes(name)) {
        expect({ name, security: operation.security }).toEqual({ name, security: undefined });
        continue;
      }
      expect({ name, codes }).toEqual({ name, codes: expect.arrayContaining(['401', '403']) });
      expect({ name, security: operation.security }).toEqual({ name, security: [{ bearer: [] }] });
      expect(responses(operation)['401']!.description).toMatch(/^`UNAUTHENTICATED`: /);
      expect(responses(operation)['403']!.description).toMatch(/^`FORBIDDEN`: a personal access token /);
    }
    // The scope the route needs is named; a route without one admits no token at all.
    expect(responses(docs.public.paths['/api/v1/users/{user_id}/jobs']!.post!)['403']!.description).toContain(
      '`jobs:write`',
    );
    expect(responses(docs.public.paths['/api/v1/auth/logout']!.post!)['403']!.description).toContain(
      'this route is for a signed-in person',
    );
  });

  it('POST /auth/tokens also lists the admin scope refused to a non-admin (403) and too many tokens (409)', () => {
    const answers = responses(docs.public.paths['/api/v1/auth/tokens']!.post!);
    expect(answers['403']!.description).toContain(
      '`users:admin` asked for by someone who is not a platform administrator',
    );
    expect(answers['409']!.description).toContain('100 tokens that are not revoked');
  });

  it.each(['public', 'private'] as const)(
    'has no parameter twice in an operation (%s), whatever the case',
    (which) => {
      for (const [name, operation] of operations(docs[which])) {
        const keys = ((operation.parameters ?? []) as ParameterObject[]).map(
          (p) => `${p.in}:${p.name.toLowerCase()}`,
        );
        expect({ name, keys }).toEqual({ name, keys: [...new Set(keys)] });
      }
    },
  );

  it('names the optional Idempotency-Key header of POST /users/{user_id}/jobs once', () => {
    const create = docs.public.paths['/api/v1/users/{user_id}/jobs']!.post!;
    expect((create.parameters as ParameterObject[]).filter((p) => p.in === 'header')).toEqual([
      expect.objectContaining({ name: 'Idempotency-Key', required: false }),
    ]);
  });

  it('describes the job events as text/event-stream, with Last-Event-ID and the 204 that ends reconnecting', () => {
    const events = docs.public.paths['/api/v1/users/{user_id}/jobs/{job_id}/events']!.get!;
    expect(Object.keys(responses(events)['200']!.content ?? {})).toEqual(['text/event-stream']);
    expect(responses(events)['204']).toBeDefined();
    expect(events.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'Last-Event-ID', required: false }),
    );
  });

  it.each(['public', 'private'] as const)('declares Retry-After on every 429 (%s)', (which) => {
    const limited = operations(docs[which]).filter(([, operation]) => responses(operation)['429']);
    if (which === 'public')
      expect(limited.map(([name]) => name).sort()).toEqual([
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/signup',
        // QUOTA_EXCEEDED: maxJobsPerDay (docs/user-details.md#quotas)
        'POST /api/v1/teams/{team_id}/jobs',
        'POST /api/v1/users/{user_id}/jobs',
      ]);
    for (const [name, operation] of limited)
      expect({ name, headers: Object.keys(responses(operation)['429']!.headers ?? {}) }).toEqual({
        name,
        headers: ['Retry-After'],
      });
  });

  it('lists QUOTA_EXCEEDED on the routes that create documents (403) and jobs (429 and 403)', () => {
    for (const path of ['/api/v1/users/{user_id}/docs', '/api/v1/teams/{team_id}/docs'])
      expect(responses(docs.public.paths[path]!.post!)['403']!.description).toContain('`QUOTA_EXCEEDED`');
    for (const path of ['/api/v1/users/{user_id}/jobs', '/api/v1/teams/{team_id}/jobs']) {
      const jobs = responses(docs.public.paths[path]!.post!);
      expect(jobs['429']!.description).toContain('`QUOTA_EXCEEDED`');
      expect(jobs['403']!.description).toContain('`QUOTA_EXCEEDED`');
    }
  });

  it('GET /health/ready lists its 503', () => {
    for (const document of [docs.public, docs.private])
      expect(Object.keys(responses(document.paths['/health/ready']!.get!))).toEqual(['200', '503']);
  });

  it('describes the signed job callbacks: the event body, both signature headers, and every answer', () => {
    const record = docs.private.paths['/api/private/webhooks/jobs/{job_id}/events']!.post!;
    const providerKey = docs.private.paths['/api/private/jobs/{job_id}/provider-key']!.post!;
    expect(record.requestBody).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/JobEventModel' } } },
    });
    for (const operation of [record, providerKey]) {
      expect(
        (operation.parameters as ParameterObject[])
          .filter((p) => p.in === 'header')
          .map((p) => [p.name, p.required]),
      ).toEqual([
        ['x-docflow-timestamp', true],
        ['x-docflow-signature', true],
      ]);
    }
    expect(Object.keys(responses(record))).toEqual(['200', '202', '400', '401', '404', '413', '503']);
    expect(Object.keys(responses(providerKey))).toEqual(['200', '400', '401', '404', '409', '413', '503']);
    const event = docs.private.components!.schemas!.JobEventModel as { required: string[] };
    expect(event.required.sort()).toEqual(['at', 'id', 'jobId', 'type']);
  });

  it('describes exactly the public paths of the issue', () => {
    expect(Object.keys(docs.public.paths).sort()).toEqual([
      '/api/v1/apikeys',
      '/api/v1/apikeys/{key_id}',
      '/api/v1/auth/.well-known/jwks.json',
      '/api/v1/auth/audit',
      '/api/v1/auth/login',
      '/api/v1/auth/logout',
      '/api/v1/auth/me',
      '/api/v1/auth/refresh',
      '/api/v1/auth/signup',
      '/api/v1/auth/tokens',
      '/api/v1/auth/tokens/{token_id}',
      '/api/v1/teams',
      '/api/v1/teams/{team_id}',
      '/api/v1/teams/{team_id}/audit',
      '/api/v1/teams/{team_id}/docs',
      '/api/v1/teams/{team_id}/docs/{doc_id}',
      '/api/v1/teams/{team_id}/jobs',
      '/api/v1/teams/{team_id}/jobs/{job_id}',
      '/api/v1/teams/{team_id}/jobs/{job_id}/events',
      '/api/v1/teams/{team_id}/jobs/{job_id}/inputs',
      '/api/v1/teams/{team_id}/members',
      '/api/v1/teams/{team_id}/members/{user_id}',
      '/api/v1/users',
      '/api/v1/users/{user_id}',
      '/api/v1/users/{user_id}/details',
      '/api/v1/users/{user_id}/details/subscription',
      '/api/v1/users/{user_id}/docs',
      '/api/v1/users/{user_id}/docs/{doc_id}',
      '/api/v1/users/{user_id}/jobs',
      '/api/v1/users/{user_id}/jobs/{job_id}',
      '/api/v1/users/{user_id}/jobs/{job_id}/events',
      '/api/v1/users/{user_id}/jobs/{job_id}/inputs',
      '/api/v1/users/{user_id}/schedules',
      '/api/v1/users/{user_id}/schedules/{schedule_id}',
      '/api/v1/users/{user_id}/schedules/{schedule_id}/runs',
      '/health/live',
      '/health/ready',
    ]);
    expect(Object.keys(docs.private.paths).sort()).toEqual([
      '/api/private/jobs/{job_id}/provider-key',
      '/api/private/webhooks/docs/status',
      '/api/private/webhooks/jobs/{job_id}/events',
      '/api/private/webooks/docs/status',
      '/health/live',
      '/health/ready',
    ]);
  });
});
