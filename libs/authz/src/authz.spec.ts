import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AuthPrincipal } from '@docflow/contracts';
import { ROLE_MATRIX, TEAM_ACTIONS, TEAM_ROLES, can, type TeamAction, type TeamRole } from './roles';
import { canReachUser, decide } from './policy';
import { hasScopes } from './scopes';

describe(can.name, () => {
  const cases: [TeamRole, TeamAction, boolean][] = [];
  for (const action of TEAM_ACTIONS)
    for (const role of TEAM_ROLES) cases.push([role, action, ROLE_MATRIX[action].includes(role)]);

  it.each(cases)('%s may %s: %s', (role, action, expected) => {
    expect(can(role, action)).toBe(expected);
  });

  it.each([
    ['owner', 'flow.publish', true],
    ['editor', 'flow.publish', false],
    ['editor', 'flow.write', true],
    ['reader', 'document.write', false],
    ['reader', 'document.read', true],
    ['consumer', 'flow.use', true],
    ['consumer', 'document.read', false],
    ['consumer', 'team.members.list', false],
    ['editor', 'team.members.manage', false],
  ] as const)('the issue: %s may %s is %s', (role, action, expected) => {
    expect(can(role, action)).toBe(expected);
  });

  it('denies a missing or unknown role and an unknown action', () => {
    expect(can(null, 'team.view')).toBe(false);
    expect(can(undefined, 'team.view')).toBe(false);
    expect(can('admin' as TeamRole, 'team.view')).toBe(false);
    expect(can('owner', 'team.fly' as TeamAction)).toBe(false);
  });

  it('is the matrix docs/authorization.md prints', () => {
    const doc = readFileSync(resolve(__dirname, '../../../docs/authorization.md'), 'utf8');
    for (const action of TEAM_ACTIONS) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${action}\``));
      expect(row).toBeDefined();
      const cells = row!
        .split('|')
        .slice(2, 2 + TEAM_ROLES.length)
        .map((c) => c.trim());
      expect(cells).toEqual(TEAM_ROLES.map((role) => (can(role, action) ? 'yes' : '—')));
    }
  });
});

describe(decide.name, () => {
  const alice = { userId: 'a' };
  it('lets only the owner (or an admin) at a user resource; others get not_found', () => {
    expect(decide(alice, { type: 'user', userId: 'a' }, 'document.write')).toBe('allow');
    expect(decide(alice, { type: 'user', userId: 'b' }, 'document.read')).toBe('not_found');
    expect(decide({ userId: 'x', isAdmin: true }, { type: 'user', userId: 'b' }, 'document.read')).toBe(
      'allow',
    );
  });

  it('applies the role to team resources; non-members get not_found', () => {
    const team = { type: 'team', teamId: 't' } as const;
    expect(decide(alice, team, 'document.write', 'editor')).toBe('allow');
    expect(decide(alice, team, 'document.write', 'reader')).toBe('forbidden');
    expect(decide(alice, team, 'document.read', null)).toBe('not_found');
    // A platform admin has no special rights in teams: only a role counts.
    expect(decide({ userId: 'x', isAdmin: true }, team, 'document.read', null)).toBe('not_found');
    expect(decide({ userId: 'x', isAdmin: true }, team, 'document.write', 'reader')).toBe('forbidden');
  });
});

describe(canReachUser.name, () => {
  const user = (userId: string, isAdmin = false): AuthPrincipal => ({ kind: 'user', userId, isAdmin });
  it.each([
    ['own id', user('11111111-aaaa-4aaa-8aaa-111111111111'), '11111111-AAAA-4aaa-8aaa-111111111111', true],
    [
      'another id',
      user('11111111-aaaa-4aaa-8aaa-111111111111'),
      '22222222-aaaa-4aaa-8aaa-222222222222',
      false,
    ],
    ['admin, another id', user('1', true), '22222222-aaaa-4aaa-8aaa-222222222222', true],
    ['anonymous', { kind: 'anonymous' } as AuthPrincipal, '1', false],
    ['no principal', undefined, '1', false],
  ])('%s', (_name, principal, userId, expected) => {
    expect(canReachUser(principal, userId)).toBe(expected);
  });
});

describe(hasScopes.name, () => {
  it('a session holds every scope; a token only its own; a route without scopes admits no token', () => {
    expect(hasScopes({ kind: 'user', userId: 'a' }, undefined)).toBe(true);
    const token: AuthPrincipal = { kind: 'token', userId: 'a', scopes: ['documents:read'] };
    expect(hasScopes(token, ['documents:read'])).toBe(true);
    expect(hasScopes(token, ['documents:write'])).toBe(false);
    expect(hasScopes(token, ['documents:read', 'jobs:read'])).toBe(false);
    expect(hasScopes(token, undefined)).toBe(false);
    expect(hasScopes(token, [])).toBe(false);
    expect(hasScopes({ kind: 'anonymous' }, ['documents:read'])).toBe(false);
  });
});
