import type { AuthPrincipal, TeamRole } from '@docflow/contracts';
import { can, type TeamAction } from './roles';

/** Who owns a resource: a user, or a team. */
export type ResourceOwner = { type: 'user'; userId: string } | { type: 'team'; teamId: string };

/**
 * `allow`; `forbidden` (the caller sees the resource but may not do this); `not_found` (the caller may not
 * know it exists: answer 404, as for a resource that does not exist).
 */
export type Decision = 'allow' | 'forbidden' | 'not_found';

export interface Actor {
  userId: string;
  isAdmin?: boolean;
}

/**
 * The one ownership policy. A user's own resources: only that user (or a platform admin). A team's: its
 * members, as far as their role allows (`can`); someone who is not a member (a platform admin too: admins have
 * no special rights in teams) does not learn the resource exists. `roleInTeam` is the actor's role in the owning team (null when not a member), looked up by the
 * caller from identity (`identity.membership.get`).
 */
export function decide(
  actor: Actor,
  owner: ResourceOwner,
  action: TeamAction,
  roleInTeam?: TeamRole | null,
): Decision {
  if (owner.type === 'user') {
    return actor.userId === owner.userId || actor.isAdmin ? 'allow' : 'not_found';
  }
  if (!roleInTeam) return 'not_found';
  if (can(roleInTeam, action)) return 'allow';
  return can(roleInTeam, 'team.view') ? 'forbidden' : 'not_found';
}

/**
 * May the principal reach `/users/{userId}/...`? Their own id, or any id as a platform admin. Ids compare
 * case-insensitively (the gateway canonicalises them to lower case).
 */
export function canReachUser(principal: AuthPrincipal | undefined, userId: string): boolean {
  if (!principal || principal.kind === 'anonymous' || !principal.userId) return false;
  if (principal.isAdmin) return true;
  return principal.userId.toLowerCase() === userId.toLowerCase();
}
