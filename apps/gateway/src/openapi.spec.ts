import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocuments, serialize } from './openapi';

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
      '/api/v1/teams/{team_id}/jobs',
      '/api/v1/teams/{team_id}/jobs/{job_id}',
      '/api/v1/teams/{team_id}/jobs/{job_id}/events',
      '/api/v1/teams/{team_id}/jobs/{job_id}/inputs',
      '/api/v1/teams/{team_id}/members',
      '/api/v1/teams/{team_id}/members/{user_id}',
      '/api/v1/users',
      '/api/v1/users/{user_id}',
      '/api/v1/users/{user_id}/details',
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
