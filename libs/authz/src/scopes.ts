import type { AuthPrincipal } from '@docflow/contracts';

/**
 * Scopes a personal access token may carry. A route names the scope it needs (`@RequireScopes(...)` in the
 * gateway); a route that names none is for people only (a session), never for a token: managing tokens,
 * deleting an account.
 */
export const SCOPES = [
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
  /** Platform-admin routes (`GET`/`POST /users`), and only for an admin's token. */
  'users:admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export const SCOPE_DESCRIPTIONS: Readonly<Record<Scope, string>> = {
  'profile:read': 'read your own account and details (`/auth/me`, `GET /users/{your id}`, `GET .../details`)',
  'profile:write': 'change your profile (`PATCH /users/{your id}/details`)',
  'documents:read': 'list and download your documents',
  'documents:write': 'upload and delete your documents',
  'jobs:read': 'see your jobs and follow their events',
  'jobs:write': 'start and cancel jobs',
  'schedules:read': 'see your schedules and their runs',
  'schedules:write': 'create, pause, resume, rename and delete schedules (which start jobs as you)',
  'teams:read': 'see your teams and their members',
  'teams:write': 'create teams and manage members (as far as your role allows)',
  'apikeys:read': 'list your provider keys (never their secrets)',
  'apikeys:write': 'add and delete provider keys',
  'audit:read': 'read your audit log',
  'users:admin': 'platform-admin user management (only for an admin)',
};

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/**
 * Does the principal hold every scope a route requires? A person with a session holds every scope;
 * a token only the ones it was created with; a route that requires none admits no token at all.
 */
export function hasScopes(principal: AuthPrincipal, required: readonly Scope[] | undefined): boolean {
  if (principal.kind === 'user') return true;
  if (principal.kind !== 'token') return false;
  if (!required || required.length === 0) return false;
  const held = new Set(principal.scopes ?? []);
  return required.every((scope) => held.has(scope));
}
