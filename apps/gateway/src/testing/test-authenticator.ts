// Test code only: production never reads the caller from a plain header.
import type { FastifyRequest } from 'fastify';
import type { AuthPrincipal } from '@docflow/contracts';
import { Authenticator, type Principal } from '../auth/authentication.guard';
import { TeamAccess, type TeamAction } from '../auth/team-access';

export const TEST_USER_HEADER = 'x-test-user';
export const TEST_ADMIN_HEADER = 'x-test-admin';

/** Admits the user named in `x-test-user` (anonymous without it); `x-test-admin: 1` makes them an admin. */
export class HeaderAuthenticator extends Authenticator {
  async authenticate(request: FastifyRequest): Promise<Principal> {
    const userId = request.headers[TEST_USER_HEADER];
    if (typeof userId !== 'string') return { kind: 'anonymous' };
    return {
      kind: 'user',
      userId,
      ...(request.headers[TEST_ADMIN_HEADER] === '1' ? { isAdmin: true } : {}),
    } as Principal;
  }
}

/** Team membership from a table the test fills: `members.get(teamId)` holds the user ids allowed in. */
export class FakeTeamAccess extends TeamAccess {
  readonly members = new Map<string, Set<string>>();
  async allows(principal: AuthPrincipal, teamId: string, _action: TeamAction): Promise<boolean> {
    return !!principal.userId && (this.members.get(teamId)?.has(principal.userId) ?? false);
  }
}
