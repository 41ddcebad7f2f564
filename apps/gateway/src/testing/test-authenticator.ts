// Test code only: production never reads the caller from a plain header. Both classes plug into the real guard
// structure (`createGatewayApps(..., { authenticator, teamAccess })`): the global AuthenticationGuard still applies
// scopes, platform-admin routes and the /users/{user_id} ownership check to the principal this authenticator gives.
import type { FastifyRequest } from 'fastify';
import type { AuthPrincipal } from '@docflow/contracts';
import { decide, type Decision, type TeamAction, type TeamRole } from '@docflow/authz';
import { Authenticator, type Principal } from '../auth/authentication.guard';
import { TeamAccess } from '../auth/team-access';

export const TEST_USER_HEADER = 'x-test-user';
export const TEST_ADMIN_HEADER = 'x-test-admin';

/**
 * Admits the user named in `x-test-user`; `x-test-admin: 1` makes them an admin. Without the header it answers
 * anonymous, which the guard refuses with 401 as it refuses a request without a token.
 */
export class HeaderAuthenticator extends Authenticator {
  async authenticate(request: FastifyRequest): Promise<Principal> {
    const userId = request.headers[TEST_USER_HEADER];
    if (typeof userId !== 'string') return { kind: 'anonymous' };
    return {
      kind: 'user',
      userId,
      ...(request.headers[TEST_ADMIN_HEADER] === '1' ? { isAdmin: true } : {}),
    };
  }
}

/**
 * Team membership from a table the test fills: `members.get(teamId)` holds the user ids in the team (as owners),
 * `roles.get(teamId)?.get(userId)` a member with another role. The decision is the real policy's (`decide`).
 */
export class FakeTeamAccess extends TeamAccess {
  readonly members = new Map<string, Set<string>>();
  readonly roles = new Map<string, Map<string, TeamRole>>();

  async decide(principal: AuthPrincipal, teamId: string, action: TeamAction): Promise<Decision> {
    const userId = principal.userId;
    if (!userId) return 'not_found';
    const role =
      this.roles.get(teamId)?.get(userId) ?? (this.members.get(teamId)?.has(userId) ? 'owner' : null);
    return decide({ userId }, { type: 'team', teamId }, action, role);
  }
}
