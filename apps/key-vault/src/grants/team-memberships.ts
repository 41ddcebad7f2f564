import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode, IdentitySubjects, type Membership, type TeamRole } from '@docflow/contracts';
import { NatsRpcClient } from '@docflow/messaging';

/** A user's role in a team, from identity (`identity.membership.get`); null when not a member. */
@Injectable()
export class TeamMemberships {
  constructor(private readonly nats: NatsRpcClient) {}

  async roleOf(teamId: string, userId: string): Promise<TeamRole | null> {
    try {
      return (await this.nats.send<Membership>(IdentitySubjects.membershipGet, { teamId, userId })).role;
    } catch (error) {
      // Not a member (or no such team). Anything else (identity unreachable) is not an answer.
      if (error instanceof DomainError && error.code === ErrorCode.NOT_FOUND) return null;
      throw error;
    }
  }
}
