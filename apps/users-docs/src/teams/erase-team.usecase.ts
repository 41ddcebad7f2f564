import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError, ErrorCode } from '@docflow/contracts';
import { ObjectStorage } from '@docflow/storage';
import { Clock } from '../common/clock';
import { DocumentsRepository } from '../documents/documents.repository';
import { teamObjectsPrefix } from '../documents/object-keys';

/** What one erasure removed (ids and counts only). */
export interface TeamErased {
  documentIds: string[];
  objects: number;
}

/**
 * Removes what users-docs holds of a deleted team: records the team as deleted (no document is created or
 * registered for it from then on), deletes its documents, then every object under `teams/{team_id}/` (its
 * documents' objects and its jobs' outputs). Idempotent: run again (a redelivered event, or one for a team never
 * known) it removes whatever is left, which is usually nothing. When storage fails the call fails with
 * STORAGE_UNAVAILABLE and the event is delivered again; an upload that lands after the rows went finds no
 * document and is removed as an orphan by its storage event.
 */
@Injectable()
export class EraseTeamUseCase {
  private readonly logger = new Logger(EraseTeamUseCase.name);

  constructor(
    private readonly documents: DocumentsRepository,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    private readonly clock: Clock,
  ) {}

  async execute(teamId: string, eventId: string): Promise<TeamErased> {
    const team = teamId.toLowerCase();
    const documentIds = await this.documents.eraseTeam(team, eventId, this.clock.now());
    let objects: number;
    try {
      objects = await this.storage.deletePrefix(teamObjectsPrefix(team));
    } catch (error) {
      this.logger.warn({
        msg: "could not remove a deleted team's objects; will retry",
        teamId: team,
        eventId,
        error: (error as Error).message,
      });
      throw new DomainError(ErrorCode.STORAGE_UNAVAILABLE, 'Object storage is unavailable');
    }
    if (documentIds.length > 0 || objects > 0) {
      this.logger.log({ msg: 'team erased', teamId: team, eventId, documentIds, objects });
    } else {
      this.logger.debug({ msg: 'nothing to erase', teamId: team, eventId });
    }
    return { documentIds, objects };
  }
}
