import { Inject, Injectable } from '@nestjs/common';
import {
  IdentityTeamSubjects,
  type CreateDefaultTeamReply,
  type CreateDefaultTeamRequest,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { USER_DETAILS_CONFIG, type UserDetailsConfig } from '../config';

/** Teams live in identity: the default team of a new user is created there (idempotent on the user id). */
@Injectable()
export class IdentityTeams {
  constructor(
    private readonly services: ServiceClient,
    @Inject(USER_DETAILS_CONFIG) private readonly config: UserDetailsConfig,
  ) {}

  createDefault(request: CreateDefaultTeamRequest): Promise<CreateDefaultTeamReply> {
    return this.services.send(IdentityTeamSubjects.createDefault, request, {
      timeoutMs: this.config.IDENTITY_TIMEOUT_MS,
    });
  }
}
