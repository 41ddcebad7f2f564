import { Injectable, Logger } from '@nestjs/common';
import type { UserDeletedEvent } from '@docflow/contracts';
import { Clock } from '../common/clock';
import { UserDetailsRepository } from '../details/user-details.repository';

/**
 * A deleted account's details go: the row is deleted and the user recorded as deleted (id, event id, time), in one
 * transaction, so a new-user setup handled later for that user makes nothing. Idempotent: run again, or for a
 * user never set up, it deletes nothing more.
 */
@Injectable()
export class EraseUserDetailsUseCase {
  private readonly logger = new Logger(EraseUserDetailsUseCase.name);

  constructor(
    private readonly details: UserDetailsRepository,
    private readonly clock: Clock,
  ) {}

  async execute(userId: string, event: UserDeletedEvent): Promise<boolean> {
    const deleted = await this.details.erase(userId, event.eventId, this.clock.now());
    if (deleted) this.logger.log({ msg: 'user details erased', userId, eventId: event.eventId });
    else this.logger.debug({ msg: 'no user details to erase', userId, eventId: event.eventId });
    return deleted;
  }

  /** A deleted team is nobody's default team any more (the details show no team rather than a dead id). */
  async forgetTeam(teamId: string): Promise<number> {
    const cleared = await this.details.clearDefaultTeam(teamId, this.clock.now());
    if (cleared) this.logger.log({ msg: 'deleted team removed from user details', teamId, cleared });
    return cleared;
  }
}
