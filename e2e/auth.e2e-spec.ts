// Identity through the gateway, on the platform started as `npm start` starts it: who may call which public route
// (every route × every kind of caller), other users' ids under /users/{user_id}, the JWT rejection cases, refresh
// rotation and reuse, personal access tokens and their scopes, the login rate limit, the audit log (key events of the
// vault included), and the new-user setup from signup through JetStream to user-details and identity's default team.
import { createPrivateKey, generateKeyPairSync, randomUUID, sign as edSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { waitFor } from '@docflow/local-platform';
import { json, signup, startPlatform, type RunningPlatform, type TestUser } from './platform';

type Caller =
  | 'anonymous'
  | 'self'
  | 'editor'
  | 'reader'
  | 'consumer'
  | 'outsider'
  | 'admin'
  | 'token:documents:read'
  | 'token:all';
const CALLERS: Caller[] = [
  'anonymous',
  'self',
  'editor',
  'reader',
  'consumer',
  'outsider',
  'admin',
  'token:documents:read',
  'token:all',
];
/** Every scope but the admin one: what `token:all` holds (a token of `self`). */
const ALL_SCOPES = [
  'profile:read',
  'profile:write',
  'documents:read',
  'documents:write',
  'jobs:read',
  'jobs:write',
  'schedules:read',
  'schedules:write',
  'teams:read',
  'teams:write',
  'apikeys:read',
  'apikeys:write',
  'audit:read',
];

/**
 * Who may call a route. `public`: anyone. Otherwise a person's session always, a token only with `scope`
 * (none: never), and then: `self` — the path's user or an admin (others 404); `admin` — admins only (others
 * 403); `any` — any signed-in caller; a team action — members whose role allows it (non-members 404, other
 * members 403).
 */
type Access =
  | { public: true }
  | { scope?: string; who: 'self' | 'admin' | 'any' }
  | { scope: string; who: 'team'; roles: string[] };

type Outcome = 'allow' | 401 | 403 | 404;

const ROLE: Partial<Record<Caller, string>> = {
  self: 'owner',
  editor: 'editor',
  reader: 'reader',
  consumer: 'consumer',
  'token:documents:read': 'owner',
  'token:all': 'owner',
};

function expected(access: Access, caller: Caller): Outcome {
  if ('public' in access) return 'allow';
  if (caller === 'anonymous') return 401;
  if (caller.startsWith('token:')) {
    const held = caller === 'token:all' ? ALL_SCOPES : [caller.slice('token:'.length)];
    if (!access.scope || !held.includes(access.scope)) return 403;
  }
  switch (access.who) {
    case 'any':
      return 'allow';
    case 'admin':
      return caller === 'admin' ? 'allow' : 403;
    case 'self':
      return caller === 'self' || caller === 'admin' || caller.startsWith('token:') ? 'allow' : 404;
    case 'team': {
      const role = ROLE[caller];
      if (!role) return 404;
      return access.roles.includes(role) ? 'allow' : 403;
    }
  }
}

interface Ctx {
  self: TestUser;
  members: Record<'editor' | 'reader' | 'consumer' | 'outsider', TestUser>;
  teamId: string;
  docId: string;
  /** A document of the team (pending), created by `self`. */
  teamDocId: string;
  /** A fresh document of the team, for routes that consume one. */
  teamDoc(): Promise<string>;
  jobId: string;
  /** A schedule of `self` (it runs nothing: no slot before the tests end). */
  scheduleId: string;
  /** A fresh schedule of `self`, for routes that consume one. */
  schedule(): Promise<string>;
  /** A provider key stored for the team by `self`, for routes that consume one. */
  teamKey(): Promise<string>;
  /** A fresh user owned by nobody in particular, for routes that consume one. */
  fresh(): Promise<TestUser>;
  /** A fresh team of `self` with the same members and roles as `teamId`, for routes that consume one. */
  freshTeam(): Promise<string>;
}

interface Route {
  method: string;
  path: (ctx: Ctx) => string | Promise<string>;
  body?: (ctx: Ctx) => unknown | Promise<unknown>;
  access: Access;
  /** Statuses an allowed call may answer (a finished job cannot be cancelled: 409). */
  ok: number[];
}

const self: Access = { scope: undefined, who: 'self' };
const ROUTES: Record<string, Route> = {
  'POST /auth/signup': {
    method: 'POST',
    path: () => '/auth/signup',
    body: () => ({ name: 'New', email: `new-${randomUUID()}@example.com`, password: 'a-long-password' }),
    access: { public: true },
    ok: [201],
  },
  'POST /auth/login': {
    method: 'POST',
    path: () => '/auth/login',
    body: (ctx) => ({ email: ctx.self.email, password: ctx.self.password }),
    access: { public: true },
    ok: [200],
  },
  'POST /auth/refresh': {
    method: 'POST',
    path: () => '/auth/refresh',
    body: async (ctx) => ({ refreshToken: (await login(ctx.self)).refreshToken }),
    access: { public: true },
    ok: [200],
  },
  'GET /auth/.well-known/jwks.json': {
    method: 'GET',
    path: () => '/auth/.well-known/jwks.json',
    access: { public: true },
    ok: [200],
  },
  'POST /auth/logout': {
    method: 'POST',
    path: () => '/auth/logout',
    body: () => ({}),
    access: { who: 'any' },
    ok: [204],
  },
  'GET /auth/me': {
    method: 'GET',
    path: () => '/auth/me',
    access: { scope: 'profile:read', who: 'any' },
    ok: [200],
  },
  'POST /auth/tokens': {
    method: 'POST',
    path: () => '/auth/tokens',
    body: () => ({ name: 'ci', scopes: ['documents:read'] }),
    access: { who: 'any' },
    ok: [201],
  },
  'GET /auth/tokens': { method: 'GET', path: () => '/auth/tokens', access: { who: 'any' }, ok: [200] },
  'DELETE /auth/tokens/{token_id}': {
    method: 'DELETE',
    // Another user's token id answers 404 for everyone but its owner: covered below; here, a caller's own.
    path: () => `/auth/tokens/${randomUUID()}`,
    access: { who: 'any' },
    ok: [404],
  },
  'GET /auth/audit': {
    method: 'GET',
    path: () => '/auth/audit',
    access: { scope: 'audit:read', who: 'any' },
    ok: [200],
  },
  'GET /users': {
    method: 'GET',
    path: () => '/users',
    access: { scope: 'users:admin', who: 'admin' },
    ok: [200],
  },
  'POST /users': {
    method: 'POST',
    path: () => '/users',
    body: () => ({ name: 'Made', email: `made-${randomUUID()}@example.com` }),
    access: { scope: 'users:admin', who: 'admin' },
    ok: [201],
  },
  'GET /users/{user_id}': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}`,
    access: { scope: 'profile:read', who: 'self' },
    ok: [200],
  },
  'DELETE /users/{user_id}': {
    method: 'DELETE',
    path: (ctx) => `/users/${ctx.self.id}`,
    access: self,
    // Checked with a throwaway user below, so the table does not delete `self`.
    ok: [204],
  },
  'POST /users/{user_id}/schedules': {
    method: 'POST',
    path: (ctx) => `/users/${ctx.self.id}/schedules`,
    body: () => SCHEDULE,
    access: { scope: 'schedules:write', who: 'self' },
    ok: [201],
  },
  'GET /users/{user_id}/schedules': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}/schedules`,
    access: { scope: 'schedules:read', who: 'self' },
    ok: [200],
  },
  'GET /users/{user_id}/schedules/{schedule_id}': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}/schedules/${ctx.scheduleId}`,
    access: { scope: 'schedules:read', who: 'self' },
    ok: [200],
  },
  'PATCH /users/{user_id}/schedules/{schedule_id}': {
    method: 'PATCH',
    path: (ctx) => `/users/${ctx.self.id}/schedules/${ctx.scheduleId}`,
    body: () => ({ name: 'renamed' }),
    access: { scope: 'schedules:write', who: 'self' },
    ok: [200],
  },
  'DELETE /users/{user_id}/schedules/{schedule_id}': {
    method: 'DELETE',
    path: async (ctx) => `/users/${ctx.self.id}/schedules/${await ctx.schedule()}`,
    access: { scope: 'schedules:write', who: 'self' },
    ok: [204],
  },
  'GET /users/{user_id}/schedules/{schedule_id}/runs': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}/schedules/${ctx.scheduleId}/runs`,
    access: { scope: 'schedules:read', who: 'self' },
    ok: [200],
  },
  'GET /users/{user_id}/details': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}/details`,
    access: { scope: 'profile:read', who: 'self' },
    ok: [200],
  },
  'PATCH /users/{user_id}/details': {
    method: 'PATCH',
    path: (ctx) => `/users/${ctx.self.id}/details`,
    body: () => ({ timezone: 'Europe/Paris' }),
    access: { scope: 'profile:write', who: 'self' },
    ok: [200],
  },
  'PATCH /users/{user_id}/details/subscription': {
    method: 'PATCH',
    path: (ctx) => `/users/${ctx.self.id}/details/subscription`,
    body: () => ({ quota: { maxJobsPerDay: 1000 } }),
    access: { scope: 'users:admin', who: 'admin' },
    ok: [200],
  },
  'GET /users/{user_id}/docs': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}/docs`,
    access: { scope: 'documents:read', who: 'self' },
    ok: [200],
  },
  'POST /users/{user_id}/docs': {
    method: 'POST',
    path: (ctx) => `/users/${ctx.self.id}/docs`,
    body: () => ({ name: 'n.txt', contentType: 'text/plain', size: 3 }),
    access: { scope: 'documents:write', who: 'self' },
    ok: [201],
  },
  'GET /users/{user_id}/docs/{doc_id}': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}/docs/${ctx.docId}`,
    access: { scope: 'documents:read', who: 'self' },
    ok: [200],
  },
  'DELETE /users/{user_id}/docs/{doc_id}': {
    method: 'DELETE',
    path: async (ctx) => `/users/${ctx.self.id}/docs/${await newDoc(ctx.self)}`,
    access: { scope: 'documents:write', who: 'self' },
    ok: [204],
  },
  'GET /users/{user_id}/jobs': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}/jobs`,
    access: { scope: 'jobs:read', who: 'self' },
    ok: [200],
  },
  'POST /users/{user_id}/jobs': {
    method: 'POST',
    path: (ctx) => `/users/${ctx.self.id}/jobs`,
    // A document that is not uploaded: an allowed caller reaches the jobs service, which refuses it (400).
    body: (ctx) => ({ docIds: [ctx.docId] }),
    access: { scope: 'jobs:write', who: 'self' },
    ok: [400],
  },
  'GET /users/{user_id}/jobs/{job_id}': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}/jobs/${ctx.jobId}`,
    access: { scope: 'jobs:read', who: 'self' },
    ok: [200],
  },
  'GET /users/{user_id}/jobs/{job_id}/inputs': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}/jobs/${ctx.jobId}/inputs`,
    access: { scope: 'jobs:read', who: 'self' },
    ok: [200],
  },
  'DELETE /users/{user_id}/jobs/{job_id}': {
    method: 'DELETE',
    path: (ctx) => `/users/${ctx.self.id}/jobs/${ctx.jobId}`,
    access: { scope: 'jobs:write', who: 'self' },
    ok: [200, 409],
  },
  'GET /users/{user_id}/jobs/{job_id}/events': {
    method: 'GET',
    path: (ctx) => `/users/${ctx.self.id}/jobs/${ctx.jobId}/events`,
    access: { scope: 'jobs:read', who: 'self' },
    ok: [200],
  },
  // A team's jobs: the role decides (job.read: owner, editor, reader; job.create: owner, editor). An allowed caller
  // reaches the jobs service, which finds no such document or job of the team (404 naming it, not the team).
  'POST /teams/{team_id}/jobs': {
    method: 'POST',
    path: (ctx) => `/teams/${ctx.teamId}/jobs`,
    body: () => ({ docIds: [randomUUID()] }),
    access: { scope: 'jobs:write', who: 'team', roles: ['owner', 'editor'] },
    ok: [404],
  },
  'GET /teams/{team_id}/jobs': {
    method: 'GET',
    path: (ctx) => `/teams/${ctx.teamId}/jobs`,
    access: { scope: 'jobs:read', who: 'team', roles: ['owner', 'editor', 'reader'] },
    ok: [200],
  },
  'GET /teams/{team_id}/jobs/{job_id}': {
    method: 'GET',
    path: (ctx) => `/teams/${ctx.teamId}/jobs/${ctx.jobId}`,
    access: { scope: 'jobs:read', who: 'team', roles: ['owner', 'editor', 'reader'] },
    // `jobId` is a job of `self`, not of the team.
    ok: [404],
  },
  'GET /teams/{team_id}/jobs/{job_id}/inputs': {
    method: 'GET',
    path: (ctx) => `/teams/${ctx.teamId}/jobs/${ctx.jobId}/inputs`,
    access: { scope: 'jobs:read', who: 'team', roles: ['owner', 'editor', 'reader'] },
    ok: [404],
  },
  'GET /teams/{team_id}/jobs/{job_id}/events': {
    method: 'GET',
    path: (ctx) => `/teams/${ctx.teamId}/jobs/${ctx.jobId}/events`,
    access: { scope: 'jobs:read', who: 'team', roles: ['owner', 'editor', 'reader'] },
    ok: [404],
  },
  'DELETE /teams/{team_id}/jobs/{job_id}': {
    method: 'DELETE',
    path: (ctx) => `/teams/${ctx.teamId}/jobs/${ctx.jobId}`,
    access: { scope: 'jobs:write', who: 'team', roles: ['owner', 'editor'] },
    ok: [404],
  },
  'POST /teams': {
    method: 'POST',
    path: () => '/teams',
    body: () => ({ name: 'T' }),
    access: { scope: 'teams:write', who: 'any' },
    ok: [201],
  },
  'GET /teams': {
    method: 'GET',
    path: () => '/teams',
    access: { scope: 'teams:read', who: 'any' },
    ok: [200],
  },
  'DELETE /teams/{team_id}': {
    method: 'DELETE',
    path: async (ctx) => `/teams/${await ctx.freshTeam()}`,
    access: { scope: 'teams:write', who: 'team', roles: ['owner'] },
    ok: [204],
  },
  'GET /teams/{team_id}/members': {
    method: 'GET',
    path: (ctx) => `/teams/${ctx.teamId}/members`,
    access: { scope: 'teams:read', who: 'team', roles: ['owner', 'editor', 'reader'] },
    ok: [200],
  },
  'POST /teams/{team_id}/members': {
    method: 'POST',
    path: (ctx) => `/teams/${ctx.teamId}/members`,
    body: async (ctx) => ({ userId: (await ctx.fresh()).id, role: 'reader' }),
    access: { scope: 'teams:write', who: 'team', roles: ['owner'] },
    ok: [201],
  },
  'PATCH /teams/{team_id}/members/{user_id}': {
    method: 'PATCH',
    path: (ctx) => `/teams/${ctx.teamId}/members/${ctx.members.reader.id}`,
    body: () => ({ role: 'reader' }),
    access: { scope: 'teams:write', who: 'team', roles: ['owner'] },
    ok: [200],
  },
  'DELETE /teams/{team_id}/members/{user_id}': {
    method: 'DELETE',
    path: async (ctx) => {
      const member = await ctx.fresh();
      await as(ctx.self, 'POST', `/teams/${ctx.teamId}/members`, { userId: member.id, role: 'reader' });
      return `/teams/${ctx.teamId}/members/${member.id}`;
    },
    access: { scope: 'teams:write', who: 'team', roles: ['owner'] },
    ok: [204],
  },
  'GET /teams/{team_id}/docs': {
    method: 'GET',
    path: (ctx) => `/teams/${ctx.teamId}/docs`,
    access: { scope: 'documents:read', who: 'team', roles: ['owner', 'editor', 'reader'] },
    ok: [200],
  },
  'POST /teams/{team_id}/docs': {
    method: 'POST',
    path: (ctx) => `/teams/${ctx.teamId}/docs`,
    body: () => ({ name: 'x.txt', contentType: 'text/plain', size: 5 }),
    access: { scope: 'documents:write', who: 'team', roles: ['owner', 'editor'] },
    ok: [201],
  },
  'GET /teams/{team_id}/docs/{doc_id}': {
    method: 'GET',
    path: (ctx) => `/teams/${ctx.teamId}/docs/${ctx.teamDocId}`,
    access: { scope: 'documents:read', who: 'team', roles: ['owner', 'editor', 'reader'] },
    ok: [200],
  },
  'DELETE /teams/{team_id}/docs/{doc_id}': {
    method: 'DELETE',
    path: async (ctx) => `/teams/${ctx.teamId}/docs/${await ctx.teamDoc()}`,
    access: { scope: 'documents:write', who: 'team', roles: ['owner', 'editor'] },
    ok: [204],
  },
  'GET /teams/{team_id}/audit': {
    method: 'GET',
    path: (ctx) => `/teams/${ctx.teamId}/audit`,
    access: { scope: 'audit:read', who: 'team', roles: ['owner'] },
    ok: [200],
  },
  'GET /apikeys': {
    method: 'GET',
    path: () => '/apikeys',
    access: { scope: 'apikeys:read', who: 'any' },
    ok: [200],
  },
  'POST /apikeys': {
    method: 'POST',
    path: () => '/apikeys',
    body: () => ({ name: `k-${randomUUID()}`, provider: 'openai', key: `sk-e2e-${randomUUID()}` }),
    access: { scope: 'apikeys:write', who: 'any' },
    ok: [201],
  },
  'DELETE /apikeys/{key_id}': {
    method: 'DELETE',
    // The caller's own keys only: an id that is not one of theirs answers 404 (another user's: below).
    path: () => `/apikeys/${randomUUID()}`,
    access: { scope: 'apikeys:write', who: 'any' },
    ok: [404],
  },
  'GET /apikeys?teamId': {
    method: 'GET',
    path: (ctx) => `/apikeys?teamId=${ctx.teamId}`,
    access: { scope: 'apikeys:read', who: 'team', roles: ['owner', 'editor', 'reader'] },
    ok: [200],
  },
  'POST /apikeys (teamId)': {
    method: 'POST',
    path: () => '/apikeys',
    body: (ctx) => ({
      name: `k-${randomUUID()}`,
      provider: 'anthropic',
      key: `sk-e2e-${randomUUID()}`,
      teamId: ctx.teamId,
    }),
    access: { scope: 'apikeys:write', who: 'team', roles: ['owner', 'editor'] },
    ok: [201],
  },
  'DELETE /apikeys/{key_id}?teamId': {
    method: 'DELETE',
    path: async (ctx) => `/apikeys/${await ctx.teamKey()}?teamId=${ctx.teamId}`,
    access: { scope: 'apikeys:write', who: 'team', roles: ['owner', 'editor'] },
    ok: [204],
  },
  'GET /health/live': { method: 'GET', path: () => 'HEALTH/live', access: { public: true }, ok: [200] },
  'GET /health/ready': { method: 'GET', path: () => 'HEALTH/ready', access: { public: true }, ok: [200] },
};

let platform: RunningPlatform;
/** A schedule that starts nothing while the tests run (06:00 on weekdays, no `runNow`). */
const SCHEDULE = {
  cron: '0 6 * * 1-5',
  timezone: 'UTC',
  documents: { filter: { contentType: 'application/pdf' } },
};
/** An organisation that pays for its people: signing up with it gives the team plan and a default team. */
const TEAM_DOMAIN = 'acme-e2e.com';

async function login(user: {
  email: string;
  password: string;
}): Promise<{ jwt: string; refreshToken: string }> {
  const res = await json<{ jwt: string; refreshToken: string }>(`${platform.api}/auth/login`, {
    method: 'POST',
    body: { email: user.email, password: user.password },
    anonymous: true,
  });
  expect(res.status).toBe(200);
  return res.body;
}

function url(path: string): string {
  return path.startsWith('HEALTH/') ? `${platform.health}/${path.slice(7)}` : `${platform.api}${path}`;
}

async function as<T = { error?: { code: string; message: string } }>(
  user: TestUser | { authorization: string } | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; headers: Headers }> {
  return json<T>(url(path), {
    method,
    body,
    ...(user ? { headers: { authorization: user.authorization } } : { anonymous: true }),
  });
}

/** A document of `owner` whose upload has arrived (a job can run over it). */
async function uploadedDoc(owner: TestUser, text = 'Docflow makes documents from documents. '.repeat(20)) {
  const body = Buffer.from(text);
  const doc = await as<{ id: string; upload: { url: string } }>(owner, 'POST', `/users/${owner.id}/docs`, {
    name: 'a.txt',
    contentType: 'text/plain',
    size: body.length,
  });
  expect(doc.status).toBe(201);
  await fetch(doc.body.upload.url, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body });
  await waitFor(
    async () =>
      (await as<{ status: string }>(owner, 'GET', `/users/${owner.id}/docs/${doc.body.id}`)).body.status ===
      'uploaded',
    { description: 'the upload' },
  );
  return doc.body.id;
}

async function newDoc(owner: TestUser): Promise<string> {
  const res = await as<{ id: string }>(owner, 'POST', `/users/${owner.id}/docs`, {
    name: 'x.txt',
    contentType: 'text/plain',
    size: 5,
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

beforeAll(async () => {
  platform = await startPlatform('auth', {
    // Everything every process logs (the steps' lines too), so that the key-vault test can look for a key in it.
    LOG_LEVEL: 'debug',
    TEAM_PLAN_EMAIL_DOMAINS: TEAM_DOMAIN,
    RATE_LIMIT_LOGIN_ACCOUNT: '3/900',
    SESSION_CHECK_CACHE_MS: '100',
    TOKEN_CACHE_MS: '100',
  });
});

afterAll(async () => {
  await platform?.stop();
});

describe('every public route × every caller', () => {
  let ctx: Ctx;
  const sessions = new Map<Caller, { authorization: string }>();

  beforeAll(async () => {
    const selfUser = await signup(platform.api, 'Self');
    const members = {
      editor: await signup(platform.api, 'Editor'),
      reader: await signup(platform.api, 'Reader'),
      consumer: await signup(platform.api, 'Consumer'),
      outsider: await signup(platform.api, 'Outsider'),
    };
    const newTeam = async (name: string) => {
      const made = await as<{ id: string }>(selfUser, 'POST', '/teams', { name });
      expect(made.status).toBe(201);
      for (const role of ['editor', 'reader', 'consumer'] as const) {
        const added = await as(selfUser, 'POST', `/teams/${made.body.id}/members`, {
          email: members[role].email,
          role,
        });
        expect(added.status).toBe(201);
      }
      return made.body.id;
    };
    const team = { body: { id: await newTeam('Research') } };
    // An uploaded document and a finished job of `self`.
    const job = await as<{ id: string }>(selfUser, 'POST', `/users/${selfUser.id}/jobs`, {
      docIds: [await uploadedDoc(selfUser)],
    });
    expect(job.status).toBe(202);
    await waitFor(
      async () =>
        ['completed', 'completed_with_errors', 'failed'].includes(
          (await as<{ status: string }>(selfUser, 'GET', `/users/${selfUser.id}/jobs/${job.body.id}`)).body
            .status,
        ),
      { timeoutMs: 60_000, description: 'the job to finish' },
    );
    const pending = await newDoc(selfUser);
    // The details of `self` come from the new-user setup (identity.user.registered, asynchronous).
    await waitFor(async () => (await as(selfUser, 'GET', `/users/${selfUser.id}/details`)).status === 200, {
      description: "self's user details to be set up",
    });
    const schedule = async () => {
      const res = await as<{ id: string }>(selfUser, 'POST', `/users/${selfUser.id}/schedules`, SCHEDULE);
      expect(res.status).toBe(201);
      return res.body.id;
    };
    const teamDoc = async () => {
      const res = await as<{ id: string }>(selfUser, 'POST', `/teams/${team.body.id}/docs`, {
        name: 't.txt',
        contentType: 'text/plain',
        size: 5,
      });
      expect(res.status).toBe(201);
      return res.body.id;
    };
    ctx = {
      self: selfUser,
      members,
      teamId: team.body.id,
      docId: pending,
      teamDocId: await teamDoc(),
      teamDoc,
      jobId: job.body.id,
      scheduleId: await schedule(),
      schedule,
      teamKey: async () => {
        const key = await as<{ id: string }>(selfUser, 'POST', '/apikeys', {
          name: `team-${randomUUID()}`,
          provider: 'openai',
          key: `sk-e2e-${randomUUID()}`,
          teamId: team.body.id,
        });
        expect(key.status).toBe(201);
        return key.body.id;
      },
      fresh: () => signup(platform.api, 'Fresh'),
      freshTeam: () => newTeam(`Fresh ${randomUUID()}`),
    };
    const token = async (scopes: string[]) => {
      const res = await as<{ token: string }>(selfUser, 'POST', '/auth/tokens', { name: 't', scopes });
      expect(res.status).toBe(201);
      return { authorization: `Bearer ${res.body.token}` };
    };
    sessions.set('token:documents:read', await token(['documents:read']));
    sessions.set('token:all', await token(ALL_SCOPES));
  });

  /** A fresh session per case, so a logout in one case ends nothing another case uses. */
  async function headersOf(caller: Caller): Promise<{ authorization: string } | undefined> {
    if (caller === 'anonymous') return undefined;
    if (caller.startsWith('token:')) return sessions.get(caller);
    const account =
      caller === 'self'
        ? ctx.self
        : caller === 'admin'
          ? platform.admin
          : ctx.members[caller as keyof Ctx['members']];
    return { authorization: `Bearer ${(await login(account)).jwt}` };
  }

  const cases: [string, Caller, Outcome][] = [];
  for (const [name, route] of Object.entries(ROUTES))
    for (const caller of CALLERS) cases.push([name, caller, expected(route.access, caller)]);

  it.each(cases)('%s as %s: %s', async (name, caller, outcome) => {
    const route = ROUTES[name]!;
    let path = await route.path(ctx);
    if (name === 'DELETE /users/{user_id}') {
      // A throwaway user in place of `self` (same relation to every caller as `self`).
      const victim = await ctx.fresh();
      path = `/users/${victim.id}`;
      if (caller === 'self') return expect((await as(victim, 'DELETE', path)).status).toBe(204);
      if (caller.startsWith('token:')) {
        const t = await as<{ token: string }>(victim, 'POST', '/auth/tokens', {
          name: 't',
          scopes: caller === 'token:all' ? ALL_SCOPES : ['documents:read'],
        });
        return expect((await as({ authorization: `Bearer ${t.body.token}` }, 'DELETE', path)).status).toBe(
          403,
        );
      }
    }
    const body = route.body ? await route.body(ctx) : undefined;
    const res = await as(await headersOf(caller), route.method, path, body);
    if (outcome === 'allow') {
      if (!route.ok.includes(res.status))
        throw new Error(`answered ${res.status}: ${JSON.stringify(res.body)}`);
    } else {
      expect(res.status).toBe(outcome);
      if (outcome === 404) expect(res.body.error?.message).toMatch(/^(user|team) not found$/);
    }
  });
});

describe("another user's ids under /users/{user_id}", () => {
  let owner: TestUser;
  let other: TestUser;
  let docId: string;
  let jobId: string;
  let scheduleId: string;

  beforeAll(async () => {
    owner = await signup(platform.api, 'Owner');
    other = await signup(platform.api, 'Other');
    docId = await newDoc(owner);
    // A job that is refused for its document still proves nothing; use the other user's own job route below.
    jobId = randomUUID();
    const schedule = await as<{ id: string }>(owner, 'POST', `/users/${owner.id}/schedules`, SCHEDULE);
    expect(schedule.status).toBe(201);
    scheduleId = schedule.body.id;
    await waitFor(async () => (await as(owner, 'GET', `/users/${owner.id}/details`)).status === 200, {
      description: "the owner's user details to be set up",
    });
  });

  const routes: [string, string, (o: string, d: string, j: string, s: string) => string, unknown][] = [
    // Four values each: jest takes a test function with more parameters than values for a `done` callback.
    ['GET', 'user', (o) => `/users/${o}`, undefined],
    ['DELETE', 'user', (o) => `/users/${o}`, undefined],
    ['GET', 'docs', (o) => `/users/${o}/docs`, undefined],
    ['POST', 'docs', (o) => `/users/${o}/docs`, { name: 'x.txt', contentType: 'text/plain', size: 1 }],
    ['GET', 'doc', (o, d) => `/users/${o}/docs/${d}`, undefined],
    ['DELETE', 'doc', (o, d) => `/users/${o}/docs/${d}`, undefined],
    ['GET', 'jobs', (o) => `/users/${o}/jobs`, undefined],
    ['POST', 'jobs', (o) => `/users/${o}/jobs`, { docIds: ['DOC'] }],
    ['GET', 'job', (o, _d, j) => `/users/${o}/jobs/${j}`, undefined],
    ['DELETE', 'job', (o, _d, j) => `/users/${o}/jobs/${j}`, undefined],
    ['GET', 'job inputs', (o, _d, j) => `/users/${o}/jobs/${j}/inputs`, undefined],
    ['GET', 'job events', (o, _d, j) => `/users/${o}/jobs/${j}/events`, undefined],
    ['GET', 'schedules', (o) => `/users/${o}/schedules`, undefined],
    ['POST', 'schedules', (o) => `/users/${o}/schedules`, SCHEDULE],
    ['GET', 'schedule', (o, _d, _j, s) => `/users/${o}/schedules/${s}`, undefined],
    ['PATCH', 'schedule', (o, _d, _j, s) => `/users/${o}/schedules/${s}`, { enabled: false }],
    ['DELETE', 'schedule', (o, _d, _j, s) => `/users/${o}/schedules/${s}`, undefined],
    ['GET', 'schedule runs', (o, _d, _j, s) => `/users/${o}/schedules/${s}/runs`, undefined],
    ['GET', 'details', (o) => `/users/${o}/details`, undefined],
    ['PATCH', 'details', (o) => `/users/${o}/details`, { displayName: 'Taken over', timezone: 'Asia/Tokyo' }],
  ];

  it.each(routes)('%s %s of another user: 404, and nothing changes', async (method, _what, path, body) => {
    const before = await as<{ items: { id: string; status: string }[] }>(
      owner,
      'GET',
      `/users/${owner.id}/docs`,
    );
    const details = await as<Record<string, unknown>>(owner, 'GET', `/users/${owner.id}/details`);
    expect(details.status).toBe(200);
    const resolved = body && typeof body === 'object' && 'docIds' in body ? { docIds: [docId] } : body;
    const schedule = await as<Record<string, unknown>>(
      owner,
      'GET',
      `/users/${owner.id}/schedules/${scheduleId}`,
    );
    expect(schedule.status).toBe(200);
    const res = await as(other, method, path(owner.id, docId, jobId, scheduleId), resolved);
    expect(res.status).toBe(404);
    expect(res.body.error?.message).toBe('user not found');
    // The owner's user, documents and their states are as they were.
    expect((await as(owner, 'GET', `/users/${owner.id}`)).status).toBe(200);
    const after = await as<{ items: { id: string; status: string }[] }>(
      owner,
      'GET',
      `/users/${owner.id}/docs`,
    );
    expect(after.body.items).toEqual(before.body.items);
    expect((await as<{ items: unknown[] }>(owner, 'GET', `/users/${owner.id}/jobs`)).body.items).toEqual([]);
    expect((await as(owner, 'GET', `/users/${owner.id}/details`)).body).toEqual(details.body);
    expect((await as(owner, 'GET', `/users/${owner.id}/schedules/${scheduleId}`)).body).toEqual(
      schedule.body,
    );
    expect(
      (await as<{ items: unknown[] }>(owner, 'GET', `/users/${owner.id}/schedules`)).body.items,
    ).toHaveLength(1);
  });

  it("with their own id and the owner's document id: 404 from the service, the document untouched", async () => {
    expect((await as(other, 'GET', `/users/${other.id}/docs/${docId}`)).status).toBe(404);
    expect((await as(other, 'DELETE', `/users/${other.id}/docs/${docId}`)).status).toBe(404);
    expect((await as<{ status: string }>(owner, 'GET', `/users/${owner.id}/docs/${docId}`)).body.status).toBe(
      'pending_upload',
    );
  });

  it("cannot revoke another user's token or see their audit log", async () => {
    const token = await as<{ id: string; token: string }>(owner, 'POST', '/auth/tokens', {
      name: 'mine',
      scopes: ['profile:read'],
    });
    expect((await as(other, 'DELETE', `/auth/tokens/${token.body.id}`)).status).toBe(404);
    expect((await as({ authorization: `Bearer ${token.body.token}` }, 'GET', '/auth/me')).status).toBe(200);
    const audit = await as<{ items: { type: string }[] }>(other, 'GET', '/auth/audit');
    expect(audit.body.items.map((e) => e.type)).not.toContain('token.created');
  });

  it("cannot see or delete another user's provider keys", async () => {
    const key = await as<{ id: string }>(owner, 'POST', '/apikeys', {
      name: 'mine',
      provider: 'openai',
      key: `sk-e2e-${randomUUID()}`,
    });
    expect(key.status).toBe(201);
    expect((await as<{ items: unknown[] }>(other, 'GET', '/apikeys')).body.items).toEqual([]);
    const deleted = await as(other, 'DELETE', `/apikeys/${key.body.id}`);
    expect([deleted.status, deleted.body.error?.message]).toEqual([404, 'api key not found']);
    // As a team key of a team of their own: still not theirs.
    const team = await as<{ id: string }>(other, 'POST', '/teams', { name: 'Mine' });
    expect((await as(other, 'DELETE', `/apikeys/${key.body.id}?teamId=${team.body.id}`)).status).toBe(404);
    expect((await as<{ items: { id: string }[] }>(owner, 'GET', '/apikeys')).body.items).toEqual([
      expect.objectContaining({ id: key.body.id }),
    ]);
  });
});

describe('provider keys in the owner audit log', () => {
  it('records a stored key, its use by a job and its deletion, which the owner (only) reads', async () => {
    const user = await signup(platform.api, 'Keyholder');
    const other = await signup(platform.api, 'Bystander');
    const secret = `sk-e2e-${randomUUID()}`;
    const key = await as<{ id: string }>(user, 'POST', '/apikeys', {
      name: 'for jobs',
      provider: 'openai',
      key: secret,
    });
    expect(key.status).toBe(201);
    // A job run with the key: its step fetches it from the vault (offline model: the key is fetched, not used).
    const job = await as<{ id: string }>(user, 'POST', `/users/${user.id}/jobs`, {
      docIds: [await uploadedDoc(user)],
      options: { apiKeyId: key.body.id },
    });
    expect(job.status).toBe(202);
    await waitFor(
      async () =>
        (await as<{ status: string }>(user, 'GET', `/users/${user.id}/jobs/${job.body.id}`)).body.status ===
        'completed',
      { timeoutMs: 60_000, description: 'the job to complete' },
    );
    expect((await as(user, 'DELETE', `/apikeys/${key.body.id}`)).status).toBe(204);

    type Event = { type: string; targetId?: string; details?: Record<string, unknown> };
    const events = await waitFor(
      async () => {
        const page = await as<{ items: Event[] }>(user, 'GET', '/auth/audit?limit=100');
        const types = page.body.items.map((e) => e.type);
        return ['key.created', 'key.used', 'key.deleted'].every((t) => types.includes(t)) ? page : undefined;
      },
      { description: 'the key events in the audit log' },
    );
    const keyEvents = events.body.items.filter((e) => e.type.startsWith('key.'));
    // Newest first: deleted, then each time a step fetched it (once per step), then created.
    expect(keyEvents.every((e) => e.targetId === key.body.id)).toBe(true);
    expect(keyEvents.map((e) => e.type)).toEqual([
      'key.deleted',
      ...Array(keyEvents.length - 2).fill('key.used'),
      'key.created',
    ]);
    expect(keyEvents.find((e) => e.type === 'key.used')!.details).toMatchObject({
      jobId: job.body.id,
      provider: 'openai',
    });
    expect(JSON.stringify(events.body)).not.toContain(secret);
    // Nothing any process logged while the key was stored, granted, fetched by the job's step and deleted holds
    // it: gateway, identity, key-vault, jobs and the step's own lines (all at debug level here).
    const output = platform.output.join('\n');
    const lines = (what: string) =>
      platform.output.filter((l) => l.includes(what) && l.includes(job.body.id));
    expect(lines('"step output"').length).toBeGreaterThan(0);
    expect(lines('"api key released to a job"').length).toBeGreaterThan(0);
    expect(output).not.toContain(secret);
    const theirs = await as<{ items: Event[] }>(other, 'GET', '/auth/audit?limit=100');
    expect(theirs.body.items.filter((e) => e.type.startsWith('key.'))).toEqual([]);
  });
});

describe("a team's provider key in its members' jobs", () => {
  it('runs the job of an owner or editor with it (their audit log shows the use); a reader gets 403, others 404', async () => {
    const owner = await signup(platform.api, 'Team owner');
    const editor = await signup(platform.api, 'Team editor');
    const reader = await signup(platform.api, 'Team reader');
    const outsider = await signup(platform.api, 'Outsider');
    const team = await as<{ id: string }>(owner, 'POST', '/teams', { name: 'Keys' });
    for (const [user, role] of [
      [editor, 'editor'],
      [reader, 'reader'],
    ] as const)
      expect(
        (await as(owner, 'POST', `/teams/${team.body.id}/members`, { userId: user.id, role })).status,
      ).toBe(201);
    const secret = `sk-team-${randomUUID()}`;
    const key = await as<{ id: string }>(owner, 'POST', '/apikeys', {
      name: 'shared',
      provider: 'openai',
      key: secret,
      teamId: team.body.id,
    });
    expect(key.status).toBe(201);
    const start = async (user: TestUser) =>
      as<{ id: string; error?: { message: string; details?: unknown } }>(
        user,
        'POST',
        `/users/${user.id}/jobs`,
        {
          docIds: [await uploadedDoc(user)],
          options: { apiKeyId: key.body.id },
        },
      );

    const job = await start(editor);
    expect(job.status).toBe(202);
    await waitFor(
      async () =>
        (await as<{ status: string }>(editor, 'GET', `/users/${editor.id}/jobs/${job.body.id}`)).body
          .status === 'completed',
      { timeoutMs: 60_000, description: "the editor's job to complete" },
    );
    const used = await waitFor(
      async () => {
        const page = await as<{
          items: { type: string; targetId?: string; details?: Record<string, unknown> }[];
        }>(editor, 'GET', '/auth/audit?limit=100');
        return page.body.items.find((e) => e.type === 'key.used' && e.details?.jobId === job.body.id);
      },
      { description: "the key's use in the editor's audit log" },
    );
    expect(used).toMatchObject({
      targetId: key.body.id,
      details: { ownerType: 'team', ownerId: team.body.id },
    });
    expect((await start(owner)).status).toBe(202);

    const refused = await start(reader);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.details).toEqual([
      { field: 'options.apiKeyId', message: "Your role (reader) in the key's team may not use its keys" },
    ]);
    const hidden = await start(outsider);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error?.details).toEqual([
      { field: 'options.apiKeyId', message: 'is neither your key nor a key of one of your teams' },
    ]);
    // Neither refusal left a job behind.
    for (const user of [reader, outsider])
      expect((await as<{ items: unknown[] }>(user, 'GET', `/users/${user.id}/jobs`)).body.items).toEqual([]);
  });
});

describe('deleting an account or a team', () => {
  /** How many rows of each service still hold something of `ownerId`. */
  async function leftovers(ownerId: string): Promise<Record<string, number>> {
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      const count = async (sql: string) => Number((await client.query(sql, [ownerId])).rows[0].n);
      return {
        account: await count('SELECT count(*) AS n FROM identity.users WHERE id = $1'),
        documents: await count('SELECT count(*) AS n FROM users_docs.documents WHERE user_id = $1'),
        keys: await count('SELECT count(*) AS n FROM key_vault.api_keys WHERE owner_id = $1'),
        dataKeys: await count('SELECT count(*) AS n FROM key_vault.data_keys WHERE owner_id = $1'),
        details: await count('SELECT count(*) AS n FROM user_details.user_details WHERE user_id = $1'),
        jobs: await count('SELECT count(*) AS n FROM jobs.jobs WHERE user_id = $1'),
        schedules: await count('SELECT count(*) AS n FROM jobs.schedules WHERE user_id = $1'),
      };
    } finally {
      await client.end();
    }
  }
  const nothing = { account: 0, documents: 0, keys: 0, dataKeys: 0, details: 0, jobs: 0, schedules: 0 };

  it('removes everything of the user in every service: documents, keys, details, jobs, schedules, the team nobody else is in', async () => {
    const user = await signup(platform.api, 'Leaving');
    const key = await as<{ id: string }>(user, 'POST', '/apikeys', {
      name: 'mine',
      provider: 'openai',
      key: `sk-e2e-${randomUUID()}`,
    });
    expect(key.status).toBe(201);
    const team = await as<{ id: string }>(user, 'POST', '/teams', { name: 'Solo' });
    const teamKey = await as<{ id: string }>(user, 'POST', '/apikeys', {
      name: 'team',
      provider: 'openai',
      key: `sk-e2e-${randomUUID()}`,
      teamId: team.body.id,
    });
    expect(teamKey.status).toBe(201);
    const job = await as<{ id: string }>(user, 'POST', `/users/${user.id}/jobs`, {
      docIds: [await uploadedDoc(user)],
    });
    expect(job.status).toBe(202);
    expect((await as(user, 'POST', `/users/${user.id}/schedules`, SCHEDULE)).status).toBe(201);
    await waitFor(async () => (await as(user, 'GET', `/users/${user.id}/details`)).status === 200, {
      description: 'the user details to be set up',
    });
    const before = await leftovers(user.id);
    for (const what of ['account', 'documents', 'keys', 'dataKeys', 'details', 'jobs', 'schedules'] as const)
      expect([what, before[what]]).toEqual([what, expect.any(Number)]);
    expect(Object.values(before).every((n) => n > 0)).toBe(true);

    expect((await as(user, 'DELETE', `/users/${user.id}`)).status).toBe(204);
    await waitFor(async () => JSON.stringify(await leftovers(user.id)) === JSON.stringify(nothing), {
      timeoutMs: 30_000,
      description: "every service to drop the user's data",
    });
    await waitFor(async () => (await leftovers(team.body.id)).keys === 0, {
      description: "key-vault to drop the deleted team's key",
    });
    expect(await leftovers(team.body.id)).toMatchObject({ keys: 0, dataKeys: 0 });
  });

  it('refuses (409, naming the team) the only owner of a team with other members; DELETE /teams/{id} deletes its keys', async () => {
    const owner = await signup(platform.api, 'Only owner');
    const member = await signup(platform.api, 'Member');
    const team = await as<{ id: string }>(owner, 'POST', '/teams', { name: 'Shared' });
    await as(owner, 'POST', `/teams/${team.body.id}/members`, { userId: member.id, role: 'editor' });
    const key = await as<{ id: string }>(owner, 'POST', '/apikeys', {
      name: 'team',
      provider: 'openai',
      key: `sk-e2e-${randomUUID()}`,
      teamId: team.body.id,
    });
    expect(key.status).toBe(201);

    const refused = await as<{ error?: { details?: unknown } }>(owner, 'DELETE', `/users/${owner.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error?.details).toEqual([
      { field: 'teams', message: `the only owner of team ${team.body.id}` },
    ]);
    expect((await as(owner, 'GET', `/users/${owner.id}`)).status).toBe(200);

    expect((await as(member, 'DELETE', `/teams/${team.body.id}`)).status).toBe(403);
    expect((await as(owner, 'DELETE', `/teams/${team.body.id}`)).status).toBe(204);
    expect((await as(member, 'GET', `/teams/${team.body.id}/members`)).status).toBe(404);
    await waitFor(async () => (await leftovers(team.body.id)).keys === 0, {
      description: "key-vault to drop the deleted team's key",
    });
    expect((await as(owner, 'DELETE', `/users/${owner.id}`)).status).toBe(204);
  });
});

describe('new-user setup: signup → identity.user.registered (JetStream) → user-details', () => {
  type Details = {
    userId: string;
    displayName: string;
    plan: string;
    subscriptionStatus: string;
    setupStatus: string;
    defaultTeamId?: string;
  };
  const setUp = (user: TestUser) =>
    waitFor(
      async () => {
        const res = await as<Details>(user, 'GET', `/users/${user.id}/details`);
        return res.status === 200 && res.body.setupStatus === 'complete' ? res.body : undefined;
      },
      { description: 'the new-user setup' },
    );

  it('gives anyone the minimal set: the free plan, no team', async () => {
    const user = await signup(platform.api, 'Minimal');
    const details = await setUp(user);
    expect(details).toMatchObject({
      userId: user.id,
      displayName: 'Minimal',
      plan: 'free',
      subscriptionStatus: 'none',
    });
    expect(details.defaultTeamId).toBeUndefined();
    expect((await as<{ items: unknown[] }>(user, 'GET', '/teams')).body.items).toEqual([]);
  });

  it('gives an eligible email domain the team plan and a default team, owned by the user, in GET /teams', async () => {
    const user = await signup(platform.api, 'Sponsored', TEAM_DOMAIN);
    const details = await setUp(user);
    expect(details).toMatchObject({ userId: user.id, plan: 'team', subscriptionStatus: 'active' });
    expect(details.defaultTeamId).toEqual(expect.any(String));
    const teams = await as<{ items: { id: string; name: string; role: string }[] }>(user, 'GET', '/teams');
    expect(teams.body.items).toEqual([
      expect.objectContaining({ id: details.defaultTeamId, name: "Sponsored's team", role: 'owner' }),
    ]);
    // The team is a real one: the user adds a key to it.
    const key = await as(user, 'POST', '/apikeys', {
      name: 'team key',
      provider: 'openai',
      key: `sk-e2e-${randomUUID()}`,
      teamId: details.defaultTeamId,
    });
    expect(key.status).toBe(201);
  });
});

describe('access tokens that are rejected', () => {
  let user: TestUser;
  let key: { kid: string; d: string; x: string };

  /** Signs a JWT with the platform's own development key (what only identity should be able to do). */
  function forge(header: Record<string, unknown>, claims: Record<string, unknown>, signingKey = key): string {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ alg: 'EdDSA', typ: 'JWT', kid: signingKey.kid, ...header })}.${b64(claims)}`;
    const privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: signingKey.d, x: signingKey.x },
      format: 'jwk',
    });
    return `${input}.${edSign(null, Buffer.from(input), privateKey).toString('base64url')}`;
  }

  const claimsOf = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const me = (jwt: string) => as({ authorization: `Bearer ${jwt}` }, 'GET', '/auth/me');

  beforeAll(async () => {
    user = await signup(platform.api, 'Jwt');
    [key] = JSON.parse(readFileSync(join(platform.home, 'identity', 'dev-signing-key.json'), 'utf8'));
  });

  it('accepts the real token, and a token forged with the right key (the control for the cases below)', async () => {
    expect((await me(user.jwt)).status).toBe(200);
    expect((await me(forge({}, claimsOf(user.jwt)))).status).toBe(200);
  });

  it.each([
    ['expired', () => forge({}, { ...claimsOf(user.jwt), iat: 1_600_000_000, exp: 1_600_000_900 })],
    [
      'tampered payload',
      () => {
        const [h, , s] = user.jwt.split('.');
        const claims = { ...claimsOf(user.jwt), sub: randomUUID() };
        return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
      },
    ],
    [
      'tampered signature',
      () => {
        const [h, p, s] = user.jwt.split('.');
        const bytes = Buffer.from(s!, 'base64url');
        bytes[0] ^= 1;
        return `${h}.${p}.${bytes.toString('base64url')}`;
      },
    ],
    ['unknown kid', () => forge({ kid: 'no-such-key' }, claimsOf(user.jwt))],
    ['no kid', () => forge({ kid: undefined }, claimsOf(user.jwt))],
    [
      'alg none',
      () => {
        const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
        return `${b64({ alg: 'none', typ: 'JWT', kid: key.kid })}.${b64(claimsOf(user.jwt))}.`;
      },
    ],
    [
      'signed by another key under the right kid',
      () => {
        const other = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
        return forge({}, claimsOf(user.jwt), { kid: key.kid, d: other.d!, x: other.x! });
      },
    ],
    ['wrong audience', () => forge({}, { ...claimsOf(user.jwt), aud: 'someone-else' })],
    ['wrong issuer', () => forge({}, { ...claimsOf(user.jwt), iss: 'someone-else' })],
    ['a session that does not exist', () => forge({}, { ...claimsOf(user.jwt), sid: randomUUID() })],
    [
      "another user's id in a real session",
      () => forge({}, { ...claimsOf(user.jwt), sub: platform.admin.userId }),
    ],
    ['garbage', () => 'not-a-jwt'],
  ])('%s: 401', async (_name, make) => {
    const res = await me(make());
    expect(res.status).toBe(401);
    expect(res.body.error?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects a malformed Authorization header and a missing one', async () => {
    expect(
      (await json(`${platform.api}/auth/me`, { headers: { authorization: `Basic ${user.jwt}` } })).status,
    ).toBe(401);
    expect((await json(`${platform.api}/auth/me`, { anonymous: true })).status).toBe(401);
  });

  it('a logged-out session: its access token is rejected at once', async () => {
    const session = await login(user);
    expect((await me(session.jwt)).status).toBe(200);
    expect((await as({ authorization: `Bearer ${session.jwt}` }, 'POST', '/auth/logout', {})).status).toBe(
      204,
    );
    expect((await me(session.jwt)).status).toBe(401);
    const refreshed = await as(undefined, 'POST', '/auth/refresh', { refreshToken: session.refreshToken });
    expect(refreshed.status).toBe(401);
  });

  it('a logout with { refreshToken } from another session ends that session, and only that one', async () => {
    const phone = await login(user);
    const laptop = await login(user);
    expect((await me(phone.jwt)).status).toBe(200);
    expect(
      (
        await as({ authorization: `Bearer ${laptop.jwt}` }, 'POST', '/auth/logout', {
          refreshToken: phone.refreshToken,
        })
      ).status,
    ).toBe(204);
    expect((await me(phone.jwt)).status).toBe(401);
    expect((await as(undefined, 'POST', '/auth/refresh', { refreshToken: phone.refreshToken })).status).toBe(
      401,
    );
    expect((await me(laptop.jwt)).status).toBe(200);
  });

  it('refresh rotates; reusing an old refresh token revokes the whole family', async () => {
    const first = await login(user);
    const second = await as<{ jwt: string; refreshToken: string }>(undefined, 'POST', '/auth/refresh', {
      refreshToken: first.refreshToken,
    });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await me(second.body.jwt)).status).toBe(200);
    // The old one again: refused, and the session (its newest tokens too) ends.
    expect((await as(undefined, 'POST', '/auth/refresh', { refreshToken: first.refreshToken })).status).toBe(
      401,
    );
    expect(
      (await as(undefined, 'POST', '/auth/refresh', { refreshToken: second.body.refreshToken })).status,
    ).toBe(401);
    await waitFor(async () => (await me(second.body.jwt)).status === 401, {
      description: 'the session check cache to expire',
    });
    // Another session of the same user is not affected.
    expect((await me(user.jwt)).status).toBe(200);
    const audit = await as<{ items: { type: string }[] }>(user, 'GET', '/auth/audit');
    expect(audit.body.items.map((e) => e.type)).toContain('refresh.reused');
  });
});

describe('personal access tokens', () => {
  let user: TestUser;

  beforeAll(async () => {
    user = await signup(platform.api, 'Ci');
  });

  it('is shown once, listed without its secret, limited to its scopes, and dead once revoked', async () => {
    const created = await as<{ id: string; token: string; prefix: string }>(user, 'POST', '/auth/tokens', {
      name: 'pipeline',
      scopes: ['documents:read'],
    });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^dfp_[A-Za-z0-9_-]{43}$/);
    expect(created.body.token.startsWith(created.body.prefix)).toBe(true);
    const bearer = { authorization: `Bearer ${created.body.token}` };

    const list = await as<{ items: Record<string, unknown>[] }>(user, 'GET', '/auth/tokens');
    expect(list.body.items).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);
    expect(list.body.items[0]).not.toHaveProperty('token');

    expect((await as(bearer, 'GET', `/users/${user.id}/docs`)).status).toBe(200);
    const outOfScope = await as(bearer, 'POST', `/users/${user.id}/docs`, {
      name: 'a',
      contentType: 'text/plain',
      size: 1,
    });
    expect(outOfScope.status).toBe(403);
    expect(outOfScope.body.error?.message).toContain('documents:write');
    // A token cannot mint tokens.
    expect((await as(bearer, 'POST', '/auth/tokens', { name: 'x', scopes: ['documents:read'] })).status).toBe(
      403,
    );

    expect((await as(user, 'DELETE', `/auth/tokens/${created.body.id}`)).status).toBe(204);
    expect((await as(bearer, 'GET', `/users/${user.id}/docs`)).status).toBe(401);
    const types = (await as<{ items: { type: string }[] }>(user, 'GET', '/auth/audit')).body.items.map(
      (e) => e.type,
    );
    expect(types).toEqual(expect.arrayContaining(['token.created', 'token.revoked']));
  });

  it('refuses unknown scopes, the admin scope for a non-admin, an expiry in the past, and a made-up token', async () => {
    expect((await as(user, 'POST', '/auth/tokens', { name: 'x', scopes: ['root'] })).status).toBe(400);
    expect((await as(user, 'POST', '/auth/tokens', { name: 'x', scopes: ['users:admin'] })).status).toBe(403);
    expect(
      (
        await as(user, 'POST', '/auth/tokens', {
          name: 'x',
          scopes: ['jobs:read'],
          expiresAt: '2001-01-01T00:00:00Z',
        })
      ).status,
    ).toBe(400);
    expect((await as({ authorization: `Bearer dfp_${'A'.repeat(43)}` }, 'GET', '/auth/me')).status).toBe(401);
  });
});

describe('sign-in', () => {
  it('gives one generic message for a wrong password and an unknown account', async () => {
    const user = await signup(platform.api, 'Generic');
    const wrong = await as(undefined, 'POST', '/auth/login', {
      email: user.email,
      password: 'not-the-password',
    });
    const unknown = await as(undefined, 'POST', '/auth/login', {
      email: `nobody-${randomUUID()}@example.com`,
      password: 'x',
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error?.message).toBe(unknown.body.error?.message);
    expect(
      (await as(undefined, 'POST', '/auth/login', { user: user.email, password: user.password })).status,
    ).toBe(200);
  });

  it('limits failed logins per account: 429 with Retry-After, even with the right password, until the window ends', async () => {
    const user = await signup(platform.api, 'Limited');
    for (let i = 0; i < 3; i++)
      expect(
        (await as(undefined, 'POST', '/auth/login', { email: user.email, password: 'wrong-password' }))
          .status,
      ).toBe(401);
    const limited = await as(undefined, 'POST', '/auth/login', {
      email: user.email,
      password: user.password,
    });
    expect(limited.status).toBe(429);
    expect(limited.body.error?.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    const types = (await as<{ items: { type: string }[] }>(user, 'GET', '/auth/audit')).body.items.map(
      (e) => e.type,
    );
    expect(types.filter((t) => t === 'login.failed')).toHaveLength(3);
    expect(types).toContain('login.rate_limited');
  });

  it('signup answers { jwt, refreshToken, expiresIn: 900, user }, and the JWKS lists the kid of that JWT', async () => {
    const email = `shape-${randomUUID()}@example.com`;
    const res = await as<{ jwt: string; user: { createdAt: string } }>(undefined, 'POST', '/auth/signup', {
      name: 'Shape',
      email,
      password: 'long-enough-1',
      birth: '1990-04-01',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      jwt: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      refreshToken: expect.stringMatching(/^dfr_[\w-]{40,}$/),
      expiresIn: 900,
      user: {
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        name: 'Shape',
        email,
        birth: '1990-04-01',
        isAdmin: false,
        createdAt: expect.any(String),
      },
    });
    expect(Math.abs(Date.parse(res.body.user.createdAt) - Date.now())).toBeLessThan(60_000);
    const [header, claims] = res.body.jwt
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'JWT', kid: expect.any(String) });
    expect((claims!.exp as number) - (claims!.iat as number)).toBe(900);

    const jwks = await as<{ keys: { kid: string }[] }>(undefined, 'GET', '/auth/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.map((k) => k.kid)).toContain(header!.kid);
    expect(jwks.body.keys.find((k) => k.kid === header!.kid)).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      alg: 'EdDSA',
    });
    expect(jwks.body.keys.find((k) => k.kid === header!.kid)).not.toHaveProperty('d');
  });

  it('signup refuses a taken email (409) and a short password (400 naming it)', async () => {
    const user = await signup(platform.api, 'Taken');
    expect(
      (await as(undefined, 'POST', '/auth/signup', { name: 'X', email: user.email, password: 'long-enough' }))
        .status,
    ).toBe(409);
    const short = await as<{ error: { details: { field: string }[] } }>(undefined, 'POST', '/auth/signup', {
      name: 'X',
      email: `x-${randomUUID()}@example.com`,
      password: 'short',
    });
    expect(short.status).toBe(400);
    expect(short.body.error.details.map((d) => d.field)).toEqual(['password']);
  });
});

describe("a team's audit log", () => {
  it("shows the team's owners what an editor did with a team key; a reader gets 403, an outsider 404", async () => {
    const owner = await signup(platform.api, 'Audit owner');
    const editor = await signup(platform.api, 'Audit editor');
    const reader = await signup(platform.api, 'Audit reader');
    const outsider = await signup(platform.api, 'Audit outsider');
    const team = await as<{ id: string }>(owner, 'POST', '/teams', { name: 'Audited' });
    for (const [user, role] of [
      [editor, 'editor'],
      [reader, 'reader'],
    ] as const)
      expect(
        (await as(owner, 'POST', `/teams/${team.body.id}/members`, { userId: user.id, role })).status,
      ).toBe(201);
    const secret = `sk-team-${randomUUID()}`;
    const key = await as<{ id: string }>(editor, 'POST', '/apikeys', {
      name: 'editor made',
      provider: 'openai',
      key: secret,
      teamId: team.body.id,
    });
    expect(key.status).toBe(201);

    type Event = { type: string; userId?: string; teamId?: string; targetId?: string; actorId?: string };
    const created = await waitFor(
      async () => {
        const page = await as<{ items: Event[] }>(owner, 'GET', `/teams/${team.body.id}/audit?limit=100`);
        expect(page.status).toBe(200);
        return page.body.items.find((e) => e.type === 'key.created' && e.targetId === key.body.id);
      },
      { description: "the editor's key.created in the team's audit log" },
    );
    expect(created).toMatchObject({ userId: editor.id, teamId: team.body.id });
    // The team's own events are there too (its members added by the owner), and no secret.
    const page = await as<{ items: Event[] }>(owner, 'GET', `/teams/${team.body.id}/audit?limit=100`);
    expect(page.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'team.created', teamId: team.body.id, userId: owner.id }),
        expect.objectContaining({ type: 'team.member.added', userId: editor.id, actorId: owner.id }),
      ]),
    );
    expect(JSON.stringify(page.body)).not.toContain(secret);
    // The editor still reads it in their own log.
    const own = await as<{ items: Event[] }>(editor, 'GET', '/auth/audit?limit=100');
    expect(own.body.items.find((e) => e.targetId === key.body.id)).toMatchObject({
      type: 'key.created',
      teamId: team.body.id,
    });

    const denied = await as(reader, 'GET', `/teams/${team.body.id}/audit`);
    expect(denied.status).toBe(403);
    expect((await as(editor, 'GET', `/teams/${team.body.id}/audit`)).status).toBe(403);
    const hidden = await as(outsider, 'GET', `/teams/${team.body.id}/audit`);
    expect([hidden.status, hidden.body.error?.message]).toEqual([404, 'team not found']);
  });
});
