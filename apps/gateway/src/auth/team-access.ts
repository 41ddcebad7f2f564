import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  IdentitySubjects,
  type AuthPrincipal,
  type Membership,
  type TeamRole,
} from '@docflow/contracts';
import { decide, type Decision, type TeamAction } from '@docflow/authz';
import { ServiceClient } from '@docflow/messaging';
import { requireUserId } from './principal';

export type { Decision, TeamAction };

/**
 * May the caller do `action` with what a team owns? The answer is `decide()` of @docflow/authz (the role × action
 * matrix of docs/authorization.md): `allow`; `forbidden` (a member whose role does not allow it: 403);
 * `not_found` (not a member, or no such team: 404, so teams cannot be probed).
 */
export abstract class TeamAccess {
  abstract decide(principal: AuthPrincipal, teamId: string, action: TeamAction): Promise<Decision>;

  /**
   * The member acting for the team (`userId`, and the team id in lower case) once their role allows `action`;
   * otherwise the error {@link enforceTeamDecision} throws (404 / 403). What every team route asks first.
   */
  async authorize(
    principal: AuthPrincipal,
    teamId: string,
    action: TeamAction,
  ): Promise<{ userId: string; teamId: string }> {
    const userId = requireUserId(principal);
    const team = teamId.toLowerCase();
    enforceTeamDecision(await this.decide(principal, team, action), action);
    return { userId, teamId: team };
  }
}

/** Throws the error a decision other than `allow` answers with: 404 for the team, or 403 naming the role's limit. */
export function enforceTeamDecision(decision: Decision, action: TeamAction): void {
  if (decision === 'not_found') throw DomainError.notFound('team');
  if (decision === 'forbidden') {
    throw new DomainError(ErrorCode.FORBIDDEN, `Your role in this team may not do ${action}`);
  }
}

/**
 * Teams live in identity: the caller's role comes from `identity.membership.get` (404 when not a member). A platform
 * admin has no special rights in teams (docs/identity.md): here, as in identity's own team routes, only the role
 * counts, so `decide()` is asked for the member, not for an admin.
 */
@Injectable()
export class IdentityTeamAccess extends TeamAccess {
  constructor(private readonly services: ServiceClient) {
    super();
  }

  async decide(principal: AuthPrincipal, teamId: string, action: TeamAction): Promise<Decision> {
    const userId = principal.userId?.toLowerCase();
    if (!userId) return 'not_found';
    let role: TeamRole | null = null;
    try {
      ({ role } = await this.services.send<Membership>(IdentitySubjects.membershipGet, { teamId, userId }));
    } catch (error) {
      // Not a member (or no such team). Anything else (identity unreachable: 503) is the caller's error.
      if (!(error instanceof DomainError && error.code === ErrorCode.NOT_FOUND)) throw error;
    }
    return decide({ userId }, { type: 'team', teamId }, action, role);
  }
}
