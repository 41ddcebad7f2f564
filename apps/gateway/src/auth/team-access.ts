import { Injectable } from '@nestjs/common';
import type { AuthPrincipal } from '@docflow/contracts';

/** What a caller wants to do with a team's resources. */
export type TeamAction = 'read' | 'write';

/**
 * Whether the caller may act on a team's resources. Teams and roles live in identity: its implementation
 * replaces this one. Callers treat `false` as "no such team" (404), so teams cannot be probed.
 */
export abstract class TeamAccess {
  abstract allows(principal: AuthPrincipal, teamId: string, action: TeamAction): Promise<boolean>;
}

/** The stand-in until identity's teams land: no team is known, so team-owned resources answer 404. */
@Injectable()
export class NoTeamAccess extends TeamAccess {
  async allows(): Promise<boolean> {
    return false;
  }
}
