import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError, ErrorCode, type UserRegisteredEvent } from '@docflow/contracts';
import { Clock } from '../common/clock';
import { USER_DETAILS_CONFIG, type UserDetailsConfig } from '../config';
import { UserDetailsEntity } from '../details/user-details.entity';
import { UserDetailsRepository } from '../details/user-details.repository';
import { decideSetup, defaultDisplayName } from './eligibility';
import { IdentityTeams } from './identity-teams';

export type SetupOutcome =
  /** Everything is in place (now, or already before this delivery): ack. */
  | { kind: 'done'; created: boolean }
  /** Identity did not answer: the event comes back later (nak with a delay). */
  | { kind: 'retry'; reason: string };

/**
 * The new-user setup, idempotent per user: the details row is inserted once (primary key on the user id), and a
 * setup that waits for its team is completed once (`pending_team` → `complete`). A duplicated or redelivered
 * event finds the row and changes nothing; one whose team is still missing asks identity again, which answers
 * with the team it already made for that user. A user whose account was deleted (recorded by
 * the deletion consumer, see EraseUserDetailsUseCase) gets nothing: the event is acknowledged.
 */
@Injectable()
export class SetupNewUserUseCase {
  private readonly logger = new Logger(SetupNewUserUseCase.name);

  constructor(
    private readonly details: UserDetailsRepository,
    private readonly teams: IdentityTeams,
    private readonly clock: Clock,
    @Inject(USER_DETAILS_CONFIG) private readonly config: UserDetailsConfig,
  ) {}

  async execute(event: UserRegisteredEvent): Promise<SetupOutcome> {
    const userId = event.userId.toLowerCase();
    const decision = decideSetup(event, this.config.TEAM_PLAN_EMAIL_DOMAINS);
    const now = this.clock.now();
    const inserted = await this.details.insertUnlessDeleted(
      Object.assign(new UserDetailsEntity(), {
        userId,
        displayName: defaultDisplayName(event),
        bio: null,
        locale: 'en',
        timezone: 'UTC',
        avatarUrl: null,
        plan: decision.plan,
        subscriptionStatus: decision.subscriptionStatus,
        ...decision.quota,
        defaultTeamId: null,
        setupStatus: decision.defaultTeamName ? 'pending_team' : 'complete',
        setupEventId: event.eventId.slice(0, 128),
        createdAt: now,
        updatedAt: now,
      }),
    );
    if (inserted === 'deleted') {
      // The account was deleted before this event was handled (a redelivery, or the setup was behind).
      this.logger.log({ msg: 'user was deleted; no setup', userId, eventId: event.eventId });
      return { kind: 'done', created: false };
    }
    const created = inserted === 'created';
    if (created) {
      this.logger.log({ msg: 'user details created', userId, plan: decision.plan, reason: decision.reason });
    }
    const row = await this.details.findByUserId(userId);
    if (!row) {
      // Deleted in between: the deletion removed what this setup made.
      if (await this.details.isDeleted(userId)) return { kind: 'done', created };
      throw new Error(`user details of ${userId} vanished after their insert`);
    }
    if (row.setupStatus === 'complete') return { kind: 'done', created };

    // The row asks for a default team; its name was fixed by the row's own decision.
    try {
      const { teamId } = await this.teams.createDefault({
        userId,
        name: decision.defaultTeamName ?? `${row.displayName.slice(0, 90)}'s team`,
      });
      if (await this.details.completeTeamSetup(userId, teamId, this.clock.now())) {
        this.logger.log({ msg: 'default team attached', userId, teamId });
      }
      return { kind: 'done', created };
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.SERVICE_UNAVAILABLE) {
        return { kind: 'retry', reason: error.message };
      }
      if (error instanceof DomainError && error.code === ErrorCode.NOT_FOUND) {
        // Identity no longer knows the user: their account was deleted, and its event removes this row.
        this.logger.warn({ msg: 'user unknown to identity; setup left pending', userId });
        return { kind: 'done', created };
      }
      throw error;
    }
  }
}
