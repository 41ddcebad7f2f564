import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  KeyVaultSubjects,
  type CreateGrantRequest,
  type Grant,
  type ResolveKeyForJobRequest,
  type ResolvedKey,
  type RevokeGrantsReply,
  type RevokeGrantsRequest,
} from '@docflow/contracts';
import { GrantsService } from './grants.service';

/** Internal subjects only: the gateway never routes to them. */
@Controller()
export class GrantsController {
  constructor(private readonly grants: GrantsService) {}

  @MessagePattern(KeyVaultSubjects.grantCreate)
  create(@Payload() request: CreateGrantRequest): Promise<Grant> {
    return this.grants.create(request);
  }

  @MessagePattern(KeyVaultSubjects.keyResolveForJob)
  resolve(@Payload() request: ResolveKeyForJobRequest): Promise<ResolvedKey> {
    return this.grants.resolve(request);
  }

  @MessagePattern(KeyVaultSubjects.grantRevoke)
  revoke(@Payload() request: RevokeGrantsRequest): Promise<RevokeGrantsReply> {
    return this.grants.revoke(request);
  }
}
