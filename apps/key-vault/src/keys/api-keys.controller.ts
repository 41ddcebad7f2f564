import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  KeyVaultSubjects,
  type ApiKeyPage,
  type ApiKeySummary,
  type CreateApiKeyRequest,
  type DeleteApiKeyRequest,
  type ListApiKeysRequest,
} from '@docflow/contracts';
import { ApiKeysService } from './api-keys.service';

@Controller()
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @MessagePattern(KeyVaultSubjects.keyCreate)
  create(@Payload() request: CreateApiKeyRequest): Promise<ApiKeySummary> {
    return this.keys.create(request);
  }

  @MessagePattern(KeyVaultSubjects.keyList)
  list(@Payload() request: ListApiKeysRequest): Promise<ApiKeyPage> {
    return this.keys.list(request);
  }

  @MessagePattern(KeyVaultSubjects.keyDelete)
  async delete(@Payload() request: DeleteApiKeyRequest): Promise<{ deleted: true }> {
    await this.keys.delete(request);
    return { deleted: true };
  }
}
