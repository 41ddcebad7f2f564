import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { loadGatewayConfig } from '../config';
import { PublicApiModule } from '../gateway.modules';
import { IS_PUBLIC } from './public.decorator';
import { REQUIRED_SCOPES } from './scopes.decorator';

type Route = { route: string; isPublic: boolean; scopes?: string[] };

/** Every route of the public API, with whether it skips the guard and the scopes it names. */
function routes(): Route[] {
  const module = PublicApiModule.forRoot(
    loadGatewayConfig({ STORAGE_WEBHOOK_TOKEN: 'x'.repeat(16) }),
    {} as never,
  );
  const out: Route[] = [];
  for (const controller of module.controllers ?? []) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    const classPublic = Reflect.getMetadata(IS_PUBLIC, controller) === true;
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler);
      if (path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      out.push({
        route: `${method} /${[base, path].filter((p) => p && p !== '/').join('/')}`,
        isPublic: classPublic || Reflect.getMetadata(IS_PUBLIC, handler) === true,
        scopes: Reflect.getMetadata(REQUIRED_SCOPES, handler),
      });
    }
  }
  return out;
}

describe('public API routes', () => {
  it('only signup, login, refresh, the JWKS and health skip the authentication guard', () => {
    expect(
      routes()
        .filter((r) => r.isPublic)
        .map((r) => r.route)
        .sort(),
    ).toEqual([
      'GET /auth/.well-known/jwks.json',
      'GET /health/live',
      'GET /health/ready',
      'POST /auth/login',
      'POST /auth/refresh',
      'POST /auth/signup',
    ]);
  });

  it('names the scope a personal access token needs, or none for routes that are for people only', () => {
    const sessionOnly = routes()
      .filter((r) => !r.isPublic && !r.scopes)
      .map((r) => r.route)
      .sort();
    expect(sessionOnly).toEqual([
      'DELETE /auth/tokens/:token_id',
      'DELETE /users/:user_id',
      'GET /auth/tokens',
      'POST /auth/logout',
      'POST /auth/tokens',
    ]);
  });

  it('gives every other route the scope of what it touches (docs/authorization.md)', () => {
    const scoped = Object.fromEntries(
      routes()
        .filter((r) => !r.isPublic && r.scopes)
        .map((r) => [r.route, r.scopes!.join(' ')]),
    );
    expect(scoped).toEqual({
      'GET /auth/me': 'profile:read',
      'GET /auth/audit': 'audit:read',
      'GET /users': 'users:admin',
      'POST /users': 'users:admin',
      'GET /users/:user_id': 'profile:read',
      'GET /users/:user_id/details': 'profile:read',
      'PATCH /users/:user_id/details': 'profile:write',
      'PATCH /users/:user_id/details/subscription': 'users:admin',
      'GET /users/:user_id/docs': 'documents:read',
      'POST /users/:user_id/docs': 'documents:write',
      'GET /users/:user_id/docs/:doc_id': 'documents:read',
      'DELETE /users/:user_id/docs/:doc_id': 'documents:write',
      'GET /teams/:team_id/docs': 'documents:read',
      'POST /teams/:team_id/docs': 'documents:write',
      'GET /teams/:team_id/docs/:doc_id': 'documents:read',
      'DELETE /teams/:team_id/docs/:doc_id': 'documents:write',
      'GET /users/:user_id/jobs': 'jobs:read',
      'POST /users/:user_id/jobs': 'jobs:write',
      'GET /users/:user_id/jobs/:job_id': 'jobs:read',
      'GET /users/:user_id/jobs/:job_id/inputs': 'jobs:read',
      'GET /users/:user_id/jobs/:job_id/events': 'jobs:read',
      'DELETE /users/:user_id/jobs/:job_id': 'jobs:write',
      'GET /teams/:team_id/jobs': 'jobs:read',
      'POST /teams/:team_id/jobs': 'jobs:write',
      'GET /teams/:team_id/jobs/:job_id': 'jobs:read',
      'GET /teams/:team_id/jobs/:job_id/inputs': 'jobs:read',
      'GET /teams/:team_id/jobs/:job_id/events': 'jobs:read',
      'DELETE /teams/:team_id/jobs/:job_id': 'jobs:write',
      'GET /users/:user_id/schedules': 'schedules:read',
      'POST /users/:user_id/schedules': 'schedules:write',
      'GET /users/:user_id/schedules/:schedule_id': 'schedules:read',
      'PATCH /users/:user_id/schedules/:schedule_id': 'schedules:write',
      'DELETE /users/:user_id/schedules/:schedule_id': 'schedules:write',
      'GET /users/:user_id/schedules/:schedule_id/runs': 'schedules:read',
      'GET /teams': 'teams:read',
      'POST /teams': 'teams:write',
      'DELETE /teams/:team_id': 'teams:write',
      'GET /teams/:team_id/members': 'teams:read',
      'POST /teams/:team_id/members': 'teams:write',
      'PATCH /teams/:team_id/members/:user_id': 'teams:write',
      'DELETE /teams/:team_id/members/:user_id': 'teams:write',
      'GET /teams/:team_id/audit': 'audit:read',
      'GET /apikeys': 'apikeys:read',
      'POST /apikeys': 'apikeys:write',
      'DELETE /apikeys/:key_id': 'apikeys:write',
    });
  });
});
